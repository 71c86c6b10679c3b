"""The routine form: create or edit a routine, validated here and then by the server.

What the form can check itself (a name, five cron fields, a known time zone, an interval
of at least 1 s, a command) it refuses before any request; what only the server knows
comes back as a problem whose `errors[].field` names the input that gets the message.
The form saves through a callable it is given (attributes down) in a worker, and closes
only when the server accepted the routine.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from missiond.sdk import ProblemError, Routine
from missiond.sdk.routines import MISFIRE_POLICIES, OVERLAP_POLICIES
from missiond.tui.problems import describe, field_errors

Save = Callable[[dict[str, Any]], Awaitable[Routine]]

# server field -> form input
FIELD_INPUTS = {
    "body.name": "name",
    "body.schedule.cron": "cron",
    "body.schedule.timezone": "timezone",
    "body.schedule.interval_s": "interval",
    "body.schedule": "cron",
    "body.action": "command",
    "body.action.argv": "command",
    "body.action.shell": "command",
    "body.action.task": "command",
    "body.action.task.title": "command",
    "body.action.params": "command",
    "body.action.params.url": "command",
}
ACTIONS = (
    ("command", "command"),
    ("task: file a task on the board", "task"),
    ("http.post connector", "http.post"),
)
TARGET_LABEL = {"command": "Command", "task": "Task title", "http.post": "POST to URL"}


def action_kind(action: Mapping[str, Any]) -> str | None:
    """The form's name for an action it can edit, or None (kept as it is)."""
    kind = action.get("kind")
    if kind == "command":
        return "command"
    if kind == "task" and isinstance(action.get("task"), Mapping):
        return "task"
    if kind == "connector" and action.get("connector") == "http.post":
        return "http.post"
    return None


def action_target(action: Mapping[str, Any]) -> str:
    """What the target input shows for an existing action."""
    kind = action_kind(action)
    if kind == "task":
        return str(action["task"].get("title", ""))
    if kind == "http.post":
        return str((action.get("params") or {}).get("url", ""))
    argv = action.get("argv")
    return str(action.get("shell") or (shlex.join(argv) if isinstance(argv, list) else ""))


def validate(values: Mapping[str, Any], *, action_editable: bool) -> dict[str, str]:
    """Problems the form can see without asking the server, by input id."""
    errors: dict[str, str] = {}
    if not str(values["name"]).strip():
        errors["name"] = "a name is required"
    if values["kind"] == "cron":
        fields = str(values["cron"]).split()
        if len(fields) != 5:
            errors["cron"] = f"a cron expression has 5 fields, this has {len(fields)}"
        zone = str(values["timezone"]).strip()
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                errors["timezone"] = f"unknown time zone {zone!r}"
    else:
        try:
            if float(values["interval"]) < 1:
                errors["interval"] = "the interval is at least 1 second"
        except ValueError:
            errors["interval"] = "seconds, a number"
    if action_editable:
        target = str(values["command"]).strip()
        if values["action"] == "task":
            if not target:
                errors["command"] = "a task title is required"
        elif values["action"] == "http.post":
            if not target.startswith(("http://", "https://")):
                errors["command"] = "an http:// or https:// URL"
        else:
            try:
                argv = shlex.split(target)
            except ValueError as exc:
                errors["command"] = f"cannot parse the command: {exc}"
            else:
                if not argv:
                    errors["command"] = "a command is required"
    return errors


def routine_request(values: Mapping[str, Any], *, action_editable: bool) -> dict[str, Any]:
    """The body fields for create_routine/update_routine from the form's values."""
    body: dict[str, Any] = {"name": str(values["name"]).strip()}
    if values["kind"] == "cron":
        body["schedule"] = {"cron": " ".join(str(values["cron"]).split())}
        if str(values["timezone"]).strip():
            body["schedule"]["timezone"] = str(values["timezone"]).strip()
    else:
        body["schedule"] = {"interval_s": float(values["interval"])}
    if action_editable:
        target = str(values["command"]).strip()
        action: dict[str, Any]
        if values["action"] == "task":
            action = {"kind": "task", "task": {"title": target}}
        elif values["action"] == "http.post":
            action = {"kind": "connector", "connector": "http.post", "params": {"url": target}}
        else:
            action = {"kind": "command", "external": bool(values["external"])}
            if values["shell"]:
                action["shell"] = target
            else:
                action["argv"] = shlex.split(target)
        body["action"] = action
    body["misfire"] = {"policy": values["misfire"]}
    body["overlap"] = values["overlap"]
    body["requires_approval"] = bool(values["requires_approval"])
    body["external_allowed"] = bool(values["external_allowed"])
    return body


class RoutineForm(ModalScreen[Routine | None]):
    """Create (no `routine`) or edit one. Dismisses with the saved routine, or None."""

    BINDINGS: ClassVar = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    RoutineForm { align: center middle; }
    RoutineForm > Vertical { width: 96; height: 34; border: thick $primary; background: $surface; }
    RoutineForm #fields { height: 1fr; padding: 0 1; }
    RoutineForm .row { height: auto; }
    RoutineForm .row Label { width: 18; padding: 0 1 0 0; }
    RoutineForm .row Input, RoutineForm .row Select { width: 1fr; }
    RoutineForm Checkbox { border: none; height: 1; padding: 0; background: $surface; }
    RoutineForm .error { color: $error; height: auto; padding: 0 0 0 18; }
    RoutineForm #buttons { height: 3; align-horizontal: right; padding: 0 1; }
    RoutineForm #title { padding: 0 1; text-style: bold; }
    """

    def __init__(self, save: Save, routine: Routine | None = None) -> None:
        super().__init__()
        self.save = save
        self.routine = routine
        action = dict(routine.action) if routine else {"kind": "command"}
        self.action_editable = action_kind(action) is not None
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        r = self.routine
        action = dict(r.action) if r else {}
        with Vertical():
            yield Static(f"Edit routine {r.name}" if r else "New routine", id="title", markup=False)
            with VerticalScroll(id="fields"):
                yield from self._row("name", "Name", Input(r.name if r else "", id="name", compact=True))
                kind = "interval" if r and r.interval_s is not None else "cron"
                kinds = Select(
                    [("cron", "cron"), ("interval", "interval")],
                    value=kind,
                    id="kind",
                    allow_blank=False,
                    compact=True,
                )
                yield from self._row("kind", "Schedule", kinds)
                yield from self._row(
                    "cron", "Cron", Input((r.cron if r else None) or "0 * * * *", id="cron", compact=True)
                )
                zone = (r.timezone if r else None) or "UTC"
                yield from self._row("timezone", "Time zone", Input(zone, id="timezone", compact=True))
                interval = r.interval_s if r and r.interval_s is not None else 3600
                yield from self._row(
                    "interval", "Every (s)", Input(f"{interval:g}", id="interval", compact=True)
                )
                if self.action_editable:
                    actions = Select(
                        ACTIONS,
                        value=action_kind(action) or "command",
                        id="action",
                        allow_blank=False,
                        compact=True,
                    )
                    yield from self._row("action", "Action", actions)
                    yield from self._row(
                        "command",
                        "Command",
                        Input(action_target(action), id="command", compact=True, placeholder="make audit"),
                    )
                    yield Checkbox("run with /bin/sh -c", bool(action.get("shell")), id="shell")
                    yield Checkbox(
                        "command has external side effects", bool(action.get("external")), id="external"
                    )
                else:
                    yield Static(
                        f"action: {action.get('kind')} (kept as it is)", classes="error", markup=False
                    )
                misfire = str((r.misfire if r else {}).get("policy", "run_once"))
                yield from self._row(
                    "misfire",
                    "Misfire",
                    Select(
                        [(p, p) for p in MISFIRE_POLICIES],
                        value=misfire,
                        id="misfire",
                        allow_blank=False,
                        compact=True,
                    ),
                )
                yield from self._row(
                    "overlap",
                    "Overlap",
                    Select(
                        [(p, p) for p in OVERLAP_POLICIES],
                        value=r.overlap if r else "skip",
                        id="overlap",
                        allow_blank=False,
                        compact=True,
                    ),
                )
                yield Checkbox("requires approval", bool(r and r.requires_approval), id="requires_approval")
                yield Checkbox(
                    "external side effects allowed", bool(r and r.external_allowed), id="external_allowed"
                )
                yield Static("", id="form-error", classes="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    @staticmethod
    def _row(name: str, label: str, widget: Any) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(label, id=f"{name}-label")
            yield widget
        yield Static("", id=f"{name}-error", classes="error", markup=False)

    def on_mount(self) -> None:
        self._show_kind()
        if self.action_editable:
            self._show_action()
        self.query_one("#name", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "kind":
            self._show_kind()
        elif event.select.id == "action":
            self._show_action()

    def _show_action(self) -> None:
        kind = str(self.query_one("#action", Select).value)
        self.query_one("#command-label", Label).update(TARGET_LABEL[kind])
        for name in ("shell", "external"):
            self.query_one(f"#{name}", Checkbox).display = kind == "command"

    def _show_kind(self) -> None:
        cron = self.query_one("#kind", Select).value == "cron"
        for name in ("cron", "timezone"):
            self.query_one(f"#{name}", Input).parent.display = cron  # type: ignore[union-attr]
        self.query_one("#interval", Input).parent.display = not cron  # type: ignore[union-attr]

    def values(self) -> dict[str, Any]:
        def text(name: str) -> str:
            found = self.query(f"#{name}")
            return found.first(Input).value if found else ""

        def checked(name: str) -> bool:
            found = self.query(f"#{name}")
            return bool(found.first(Checkbox).value) if found else False

        return {
            "name": text("name"),
            "kind": self.query_one("#kind", Select).value,
            "cron": text("cron"),
            "timezone": text("timezone"),
            "interval": text("interval"),
            "action": self.query_one("#action", Select).value if self.action_editable else None,
            "command": text("command"),
            "shell": checked("shell"),
            "external": checked("external"),
            "misfire": self.query_one("#misfire", Select).value,
            "overlap": self.query_one("#overlap", Select).value,
            "requires_approval": checked("requires_approval"),
            "external_allowed": checked("external_allowed"),
        }

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        self.errors = dict(errors)
        for static in self.query(".error"):
            if static.id and static.id.endswith("-error"):
                name = static.id.removesuffix("-error")
                static.update(errors.get(name, "") if name != "form" else general)  # type: ignore[attr-defined]

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        values = self.values()
        errors = validate(values, action_editable=self.action_editable)
        self.show_errors(errors, "fix the fields marked above" if errors else "")
        if not errors:
            self._save(routine_request(values, action_editable=self.action_editable))

    @work(exclusive=True, group="save")
    async def _save(self, body: dict[str, Any]) -> None:
        try:
            routine = await self.save(body)
        except ProblemError as error:
            fields = {FIELD_INPUTS.get(f, ""): m for f, m in field_errors(error).items()}
            notice = describe(error)
            self.show_errors({k: v for k, v in fields.items() if k}, f"{notice.title}: {notice.message}")
            self.notify(notice.message, title=notice.title, severity="error")
            return
        except Exception as error:
            notice = describe(error)
            self.show_errors({}, f"{notice.title}: {notice.message}")
            self.notify(notice.message, title=notice.title, severity="error")
            return
        self.dismiss(routine)
