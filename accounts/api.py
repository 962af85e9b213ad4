"""API: who am I, and the list of departments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import departments_active, memberships_for_user
from .serializers import DepartmentOutput, MeOutput


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOutput, summary="The signed-in user, their role and departments")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "primary_role": user.primary_role,
            "memberships": memberships_for_user(user=user),
        }
        return Response(MeOutput(data).data)


class DepartmentListApi(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = DepartmentOutput

    def get_queryset(self):
        return departments_active()
