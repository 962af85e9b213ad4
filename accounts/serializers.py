from rest_framework import serializers


class MembershipOutput(serializers.Serializer):
    department = serializers.CharField(source="department.slug")
    department_name = serializers.CharField(source="department.name_translated")
    role = serializers.CharField()


class MeOutput(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.CharField(source="primary_role")
    memberships = MembershipOutput(many=True)


class DepartmentOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(source="name_translated")
    contact_email = serializers.EmailField()
    contact_phone = serializers.CharField()


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    prefix = serializers.CharField(help_text="The first characters of the key, to recognise it.")
    label = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField()
    current = serializers.BooleanField(help_text="The token this request is authenticated with.")


class TokensRevokedOutput(serializers.Serializer):
    revoked = serializers.IntegerField()
