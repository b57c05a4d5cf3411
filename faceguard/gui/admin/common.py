"""What the admin pages share: times and statuses worded as the CLI words them, and a message bar."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from faceguard.access.policy import standing
from faceguard.app.display import local_time
from faceguard.core.clock import SYSTEM_CLOCK
from faceguard.store.people import Person
from faceguard.vision.image_io import IMAGE_SUFFIXES

#: How often the pages look for changes made by a running kiosk or another admin (milliseconds).
POLL_MS = 2000
#: Text colours of a result line: failed, usable with a warning (amber), succeeded.
ERROR_STYLE = "color: #b00020;"
WARNING_STYLE = "color: #9a6700;"
OK_STYLE = "color: #1b5e20;"
#: The file dialogs' filter for photos.
PHOTO_FILTER = f"Photos ({' '.join(f'*{suffix}' for suffix in sorted(IMAGE_SUFFIXES))});;All files (*)"

_STYLES = {
    "error": "background: #fdecea; color: #8a1c12; border: 1px solid #f5c2bd;",
    "info": "background: #e8f1fb; color: #123f6b; border: 1px solid #bcd5f0;",
}


def status_text(person: Person) -> str:
    """active, inactive, expired or not yet valid: what the door would decide about them now."""
    return standing(person.status(), SYSTEM_CLOCK.wall()).value


def validity_text(person: Person) -> str:
    """The validity period in local time, e.g. "from 2026-12-01 08:00 until 2026-12-31 23:59"."""
    parts = [
        f"{word} {local_time(moment)}"
        for word, moment in (("from", person.valid_from), ("until", person.valid_until))
        if moment
    ]
    return " ".join(parts) or "no limit"


class MessageBar(QLabel):
    """A line above a page's content that reports the outcome of the last action; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setMargin(6)
        self.is_error = False
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, error=True)

    def show_info(self, text: str) -> None:
        self._show(text, error=False)

    def _show(self, text: str, error: bool) -> None:
        self.is_error = error
        self.setStyleSheet(_STYLES["error" if error else "info"])
        self.setText(text)
        self.show()
