"""Resources: browse the key space by prefix, with live values and revisions.

The screen lists the keys under the prefix (up to `MAX_KEYS`) and shows one level at a
time: a key with deeper segments shows as a folder (`project/build/`) with how many keys it
holds; `enter` opens it, `backspace` goes up. Values follow the spine live: a change to a
key on screen updates its row in place; a new or deleted key relists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from missiond.sdk import Event, Resource, ResourceEvent
from missiond.tui.screens.base import LiveScreen

MAX_KEYS = 2000
PAGE = 500


class ResourcesScreen(LiveScreen):
    MODE = "resources"
    TOPICS = ("resource.",)
    BINDINGS: ClassVar = [
        Binding("slash", "focus_prefix", "Prefix"),
        Binding("backspace", "up", "Up"),
        Binding("o", "open", "Open"),
    ]
    DEFAULT_CSS = """
    ResourcesScreen #prefix { margin: 0 1; }
    ResourcesScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    ResourcesScreen #resources { height: 1fr; }
    ResourcesScreen #value { height: 8; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.prefix = ""
        self.revision = 0
        self.records: dict[str, Resource] = {}

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="prefix, e.g. project/ (enter to browse)", id="prefix", compact=True)
        yield Static("", id="summary", markup=False)
        table: DataTable[Any] = DataTable(id="resources", cursor_type="row", zebra_stripes=True)
        table.add_column("key", key="key")
        table.add_column("value", key="value")
        table.add_column("rev", key="rev")
        table.add_column("by", key="by")
        table.add_column("updated", key="updated")
        yield table
        yield Static("", id="value", markup=False)

    def on_mount(self) -> None:
        self.query_one("#resources", DataTable).focus()

    async def load(self) -> None:
        records: dict[str, Resource] = {}
        revision = 0
        truncated = False
        async for page in self.tui.client.iter_resource_pages(self.prefix, page_size=PAGE):
            revision = max(revision, page.revision)
            for item in page.items:
                records[item.key] = item
            if len(records) >= MAX_KEYS:
                truncated = True
                break
        self.records, self.revision = records, revision
        folders: dict[str, int] = {}
        leaves: list[Resource] = []
        for key, record in records.items():
            rest = key[len(self.prefix) :]
            head, sep, _ = rest.partition("/")
            if sep:
                folders[self.prefix + head + "/"] = folders.get(self.prefix + head + "/", 0) + 1
            else:
                leaves.append(record)
        fmt = self.tui.formatter
        rows: list[tuple[str, tuple[Any, ...]]] = [
            (folder, (Text(folder, style="bold cyan"), Text(f"{count} keys", style="dim"), "", "", ""))
            for folder, count in sorted(folders.items())
        ]
        rows += [(r.key, self._cells(r)) for r in sorted(leaves, key=lambda r: r.key)]
        self.fill(self.query_one("#resources", DataTable), rows)
        shown = f"{len(records)} keys" + (f" (the first {MAX_KEYS})" if truncated else "")
        self.query_one("#summary", Static).update(
            f"prefix {self.prefix or '(all)'}  │  {shown}  │  revision {fmt.seq(revision)}", layout=False
        )
        self._show(self.selected_key(self.query_one("#resources", DataTable)))

    def _cells(self, record: Resource) -> tuple[Any, ...]:
        fmt = self.tui.formatter
        return (
            record.key,
            fmt.json(record.value, 48),
            fmt.seq(record.mod_rev),
            record.updated_by,
            fmt.time(record.updated_at),
        )

    # -- live values -------------------------------------------------------------------

    def relevant(self, event: Event) -> bool:
        if not event.type.startswith("resource."):
            return False
        data = event.data if isinstance(event.data, Mapping) else {}
        key = str(data.get("key") or event.subject.removeprefix("resource/"))
        return key.startswith(self.prefix)

    def spine_arrived(self, events: list[Event]) -> None:
        table = self.query_one("#resources", DataTable)
        relist = False
        for event in events:
            if not self.relevant(event) or event.seq <= self.revision:
                continue
            change = ResourceEvent.from_event(event)
            record = self.records.get(change.key)
            if change.deleted or record is None or change.key not in table.rows:
                relist = True
                continue
            fmt = self.tui.formatter
            table.update_cell(change.key, "value", Text(fmt.json(change.value, 48)))
            table.update_cell(change.key, "rev", Text(fmt.seq(change.rev)))
            table.update_cell(change.key, "by", Text(fmt.text(event.actor or "-")))
            table.update_cell(change.key, "updated", Text(fmt.time(event.ts)))
            self.records[change.key] = Resource(
                key=record.key,
                value=change.value,
                create_rev=record.create_rev,
                mod_rev=change.rev,
                version=record.version + 1,
                updated_by=event.actor or record.updated_by,
                updated_at=event.ts,
                expires_at=record.expires_at,
            )
        if relist:
            self.request_reload()
        else:
            self._show(self.selected_key(table))

    # -- browsing -----------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(None if event.row_key.value is None else str(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(None if event.row_key.value is None else str(event.row_key.value))

    def _show(self, key: str | None) -> None:
        pane = self.query_one("#value", Static)
        record = self.records.get(key or "")
        if record is None:
            pane.update(Text("enter opens a folder; / edits the prefix", style="dim"))
            return
        fmt = self.tui.formatter
        text = Text(f"{record.key}  rev {fmt.seq(record.mod_rev)}  version {record.version}\n", style="bold")
        text.append(fmt.json(record.value, 600))
        pane.update(text)

    def _open(self, key: str | None) -> None:
        if key and key.endswith("/"):
            self.set_prefix(key)

    def set_prefix(self, prefix: str) -> None:
        self.prefix = prefix
        self.query_one("#prefix", Input).value = prefix
        self.request_reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.set_prefix(event.value.strip())
        self.query_one("#resources", DataTable).focus()

    def action_focus_prefix(self) -> None:
        self.query_one("#prefix", Input).focus()

    def action_open(self) -> None:
        self._open(self.selected_key(self.query_one("#resources", DataTable)))

    def action_up(self) -> None:
        trimmed = self.prefix.rstrip("/")
        self.set_prefix(trimmed.rsplit("/", 1)[0] + "/" if "/" in trimmed else "")
