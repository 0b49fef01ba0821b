"""The forms of the connections page: one per kind of account."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from connections.models import ConnectedAccount
from relations.integrations.outbound import UnsafeDestination, check_destination, check_host


class FoldersField(forms.CharField):
    """Folder names, one per line."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value: object) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()][:50]


class AccountForm(forms.ModelForm):
    # Never shown again: blank on edit keeps the stored password.
    secret = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        max_length=1000,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        self.fields["secret"].required = not editing
        self.fields["secret"].help_text = (
            _("Stored encrypted and never shown again. Leave blank to keep the current one.")
            if editing
            else _("Stored encrypted and never shown again. Use an app password if you can.")
        )
        interval = self.fields["sync_interval_minutes"]
        interval.validators += [MinValueValidator(1), MaxValueValidator(24 * 60)]
        interval.widget.attrs.update({"min": 1, "max": 24 * 60})

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk is not None and not cleaned.get("secret"):
            cleaned["secret"] = self.instance.secret  # blank keeps the stored password
        return cleaned


class MailboxForm(AccountForm):
    folders = FoldersField(
        label=_("Folders"), help_text=_("One per line, for example INBOX and Sent.")
    )

    class Meta:
        model = ConnectedAccount
        fields = [
            "label",
            "host",
            "port",
            "security",
            "username",
            "secret",
            "folders",
            "content",
            "exclude_addresses",
            "sync_interval_minutes",
        ]
        widgets = {
            "content": forms.RadioSelect,
            "exclude_addresses": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "port": _("Empty: 993 with TLS, 143 otherwise."),
            "security": _("Without encryption the password travels readable: avoid it."),
            "exclude_addresses": _(
                "One address per line: mail to or from them is never logged (your doctor, "
                "your family)."
            ),
        }

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        if not host:
            raise ValidationError(_("Enter the mail server's name, for example imap.example.org."))
        return host

    def clean(self) -> dict:
        cleaned = super().clean()
        host = cleaned.get("host")
        if host and ("host" in self.changed_data or "port" in self.changed_data):
            security = cleaned.get("security") or ConnectedAccount.Security.TLS
            port = cleaned.get("port") or (993 if security == "tls" else 143)
            try:
                check_host(host, port)
            except UnsafeDestination as exc:
                self.add_error("host", str(exc))
        if not cleaned.get("folders") and "folders" not in self.errors:
            self.add_error("folders", _("Name at least one folder."))
        return cleaned


class CollectionForm(AccountForm):
    class Meta:
        model = ConnectedAccount
        fields = ["label", "url", "username", "secret", "sync_interval_minutes"]
        help_texts = {
            "url": _(
                "The server's address (its calendars or address books are found there) or "
                "the address of one calendar or address book."
            ),
        }

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if not url:
            raise ValidationError(_("Enter the address of the server."))
        if "url" in self.changed_data:
            try:
                check_destination(url)
            except UnsafeDestination as exc:
                raise ValidationError(str(exc)) from exc
        return url


FORM_BY_KIND = {
    ConnectedAccount.Kind.IMAP: MailboxForm,
    ConnectedAccount.Kind.CALDAV: CollectionForm,
    ConnectedAccount.Kind.CARDDAV: CollectionForm,
}


class RemoveForm(forms.Form):
    captured = forms.ChoiceField(
        label=_("What it captured"),
        choices=[
            ("keep", _("Keep the interactions it captured")),
            ("delete", _("Delete the interactions only it captured")),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )
