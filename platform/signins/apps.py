from django.apps import AppConfig


class SignInsConfig(AppConfig):
    name = "signins"
    verbose_name = "Sign-ins: member assertions and failed-login throttling"
