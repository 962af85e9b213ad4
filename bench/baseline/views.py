"""Bare DRF: a create endpoint on a trivial model, the same authentication as the portal's API."""

from django.http import HttpRequest, HttpResponse
from rest_framework import generics, serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text", "created_at"]


class NoteCreate(generics.CreateAPIView):
    serializer_class = NoteSerializer
    queryset = Note.objects.all()


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")
