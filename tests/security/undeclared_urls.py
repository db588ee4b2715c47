"""A URLconf with one API view that forgot to declare its permission (test only)."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class Undeclared(APIView):
    def get(self, request):
        return Response({"leak": "everything"})


urlpatterns = [path("undeclared/", Undeclared.as_view())]
