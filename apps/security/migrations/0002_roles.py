"""Create the four roles as groups with their permissions (apps/security/roles.py).

A frozen copy of roles.ROLES, as data migrations should be; tests/security/test_roles.py
checks the two agree. Permissions are normally created after all migrations ran
(post_migrate), so this creates the ones it needs first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "viewer": ["security.view_plan"],
    "operator": ["security.view_plan", "core.act_on_job"],
    "administrator": [
        "security.view_plan",
        "core.act_on_job",
        "security.administer",
        "security.view_monitoring",
        "security.test_hwa_connection",
    ],
    "auditor": ["security.view_monitoring"],
}


def _create_permissions(apps):
    for label in ("core", "security"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # a stub has none; create_permissions wants one
        create_permissions(app_config, apps=apps, verbosity=0)


def create_roles(apps, schema_editor):
    _create_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, permissions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for permission in permissions:
            app_label, codename = permission.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_permissions_token_families"),
        ("core", "0005_hwa_connection_sync_runs_job_actions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
