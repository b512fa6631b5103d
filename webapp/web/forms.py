"""Forms: the web tier checks what it can for quick, clear errors; the platform has the last word,
and its 400 reasons are put back on the fields they name (`refused`)."""

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator, URLValidator

from web.platform_client import ValidationFailed

AVATAR_TYPES = "image/png,image/jpeg,image/gif,image/webp"


def refused(form: forms.Form, exc: ValidationFailed, aliases: dict[str, str] | None = None) -> None:
    """Show the platform's 400 on the form: each error on its field (the platform's name
    for it, or its alias on this form), the rest on the form as a whole."""
    if not exc.errors:
        form.add_error(None, exc.detail)
    for error in exc.errors:
        # The platform names fields by location, e.g. "body.title".
        field = str(error.get("field", "")).rsplit(".", 1)[-1]
        field = (aliases or {}).get(field, field)
        form.add_error(field if field in form.fields else None, error.get("message") or exc.detail)


class SignUpForm(forms.Form):
    username = forms.CharField(
        min_length=3,
        max_length=30,
        validators=[RegexValidator(r"^[A-Za-z0-9_]+\Z", "Use letters, digits and underscores only.")],
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    name = forms.CharField(max_length=80, required=False, help_text="Shown beside your stories.")
    password = forms.CharField(
        min_length=8, max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=30, widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"})
    )
    password = forms.CharField(
        max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=80, required=False)
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    avatar = forms.FileField(
        required=False,
        label="Picture",
        help_text="PNG, JPEG, GIF or WebP, at most 2 MB and 4 megapixels (2000 x 2000, say).",
        widget=forms.FileInput(attrs={"accept": AVATAR_TYPES}),
    )

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > settings.AVATAR_MAX_BYTES:
            raise forms.ValidationError("The picture is larger than 2 MB.")
        return avatar


class WebURLField(forms.URLField):
    """http and https only: a story link must never run script (javascript:) or embed data."""

    default_validators = [URLValidator(schemes=["http", "https"])]


class StoryForm(forms.Form):
    title = forms.CharField(max_length=200)
    url = WebURLField(label="URL", max_length=500, assume_scheme="https")
    text = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text="Optional."
    )


class SearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False)
