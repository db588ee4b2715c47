"""Create the three pool rows with the `current` preset (see pools/defaults.py)."""

from django.db import migrations

# A copy, not an import: a migration must not change when the code does.
CURRENT = {
    "min_size": 5,
    "max_size": 20,
    "idle_timeout": 300,
    "connection_timeout": 30,
    "health_check_interval": 60,
    "max_lifetime": 1800,
    "max_waiting": 0,
}


def create_rows(apps, schema_editor):
    config = apps.get_model("core", "ConnectionPoolConfig")
    for name in ("database", "redis", "hwa_http"):
        config.objects.get_or_create(name=name, defaults=CURRENT)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_connection_pool_config")]

    operations = [migrations.RunPython(create_rows, migrations.RunPython.noop)]
