"""Typed exceptions. Each carries a user-facing message the GUI and CLI show as is."""

from __future__ import annotations


class FaceGuardError(Exception):
    """Base class: ``str(error)`` is a complete sentence meant for the person at the screen."""

    exit_code = 1


class InvalidInputError(FaceGuardError, ValueError):
    """A value a user typed or chose is not acceptable (an option, a setting, a name, a date); the
    message says which and what is allowed. A ValueError too, so code catching that keeps working."""

    exit_code = 2


class MissingWeightsError(FaceGuardError):
    """A model's weights file is not installed; the message names the package that ships it."""

    exit_code = 3


class ImageError(FaceGuardError):
    """An image could not be read or is not usable at all (corrupt, empty, wrong type, too large)."""

    exit_code = 4
    #: What is wrong, in a few words: the wizard's headline above the message.
    headline = "The file cannot be used"


class QualityError(FaceGuardError):
    """A photo was read but is not good enough to enroll or verify from. ``headline`` names what is wrong
    (shown above the message when enrolling); ``hint`` is the short instruction the kiosk shows at the door."""

    exit_code = 5
    headline = "The photo cannot be enrolled"
    hint = "Look at the camera"


class NoFaceError(QualityError):
    headline = "No face found"
    hint = "Look at the camera"

    def __init__(
        self,
        message: str = "No face was found in the photo. Use a clear, front-facing photo with the whole face visible.",
    ) -> None:
        super().__init__(message)


class MultipleFacesError(QualityError):
    hint = "Look at the camera"

    def __init__(self, count: int) -> None:
        self.count = count
        self.headline = f"{count} faces found"
        super().__init__(f"{count} faces were found in the photo; it must show exactly one person.")


class FaceTooSmallError(QualityError):
    headline = "The face is too small"
    hint = "Come closer"


class BlurryFaceError(QualityError):
    headline = "The photo is blurred"
    hint = "Look at the camera"


class ExposureError(QualityError):
    headline = "The face is too dark or too bright"
    hint = "Too dark or too bright"


class NotFrontalError(QualityError):
    headline = "The face is turned away"
    hint = "Look at the camera"


class LivenessModelError(FaceGuardError):
    """A passive liveness model a site provided is missing, unreadable or not the model its file name
    says; the message names the file and what is wrong. Exit code 3, like other missing model weights."""

    exit_code = 3


class ModelMismatchError(FaceGuardError):
    """Encodings made by different models were about to be compared."""


class NotFoundError(FaceGuardError):
    """A person (or another record) named on the command line or in the GUI does not exist."""

    exit_code = 6


class ConflictError(FaceGuardError):
    """A change would break a rule of the store, such as two people with one badge number."""

    exit_code = 7


class StoreError(FaceGuardError):
    """The database cannot be opened or written; nothing already stored has been changed."""

    exit_code = 8


class NotADatabaseError(StoreError):
    pass


class SchemaTooNewError(StoreError):
    pass


class ReadOnlyDatabaseError(StoreError):
    pass


class DiskFullError(StoreError):
    pass


class DatabaseLockedError(StoreError):
    pass


class CorruptDatabaseError(StoreError):
    pass


class FaceDataKeyError(StoreError):
    """The key that encrypts the database's face data (templates, thumbnails, snapshots) is missing
    or is not the one the database was encrypted with; the message names the key and where to put it."""


class SiteUnreachableError(StoreError):
    """The site's PostgreSQL server cannot be reached or refused the login; the message names the host,
    port, database and user (never the password) and what to check."""


class TamperedLogError(FaceGuardError):
    """``faceguard events verify`` found the access and admin log changed outside FaceGuard: records
    edited, deleted, inserted or reordered (each is listed before this error)."""

    exit_code = 10


class AdminPasswordError(FaceGuardError):
    """The admin password a command or window needs is missing, wrong, or cannot be set as typed (too
    short, the two entries differ); the message says which and how to give it."""

    exit_code = 11


class CameraError(FaceGuardError):
    """The camera (webcam, video file, stream or image folder) cannot be opened or stopped delivering."""


class DoorError(FaceGuardError):
    """The door's lock output (a relay, a webhook, a serial relay board) did not do what it was told;
    the message names the device and what failed. The door is then kept locked and out of service."""

    exit_code = 9
