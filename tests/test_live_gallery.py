"""LiveGallery: the kiosk's in-memory gallery follows the database (any connection) through the change
log; identify answers with person ids; a pruned log falls back to a full, correct reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from faceguard.app.enrollment import prepare_template
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from tests.store_helpers import new_template

OTHER_MODEL = "other-model@2"


@pytest.fixture(scope="module")
def faces(pipeline, photo):
    """Real templates (encoding + thumbnail) of the test photos, made once."""
    names = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png"]
    return {name.split(".")[0]: prepare_template(pipeline, photo(name), f"photo:{name}")[0] for name in names}


@pytest.fixture
def model(pipeline):
    """The model in use: its id, encoding dimension and threshold (the gallery mechanism is model-independent)."""
    return pipeline.spec.id, pipeline.spec.dim, pipeline.threshold


@pytest.fixture(params=["same-connection", "other-connection"])
def writer(request, store, tmp_path):
    """Where the changes are made: the gallery's own Store, or a second connection (as the admin GUI)."""
    if request.param == "same-connection":
        yield store
    else:
        with Store.open(tmp_path / "faceguard.db") as other:
            yield other


def identify(live: LiveGallery, template, threshold: float):
    return live.identify(template.encoding[None], threshold)[0]


def test_load_reads_every_template_of_the_model_and_identify_answers_with_person_ids(store, faces, model):
    model_id, dim, threshold = model
    obama = store.enroll("Barack Obama", faces["obama"], badge="44")
    store.add_template(obama.id, faces["obama3"])
    biden = store.enroll("Joe Biden", faces["biden"], valid_until=datetime(2030, 1, 20, tzinfo=UTC))
    store.add_template(obama.id, new_template(model_id=OTHER_MODEL, dim=512))
    other_only = store.enroll("Other model only", new_template(model_id=OTHER_MODEL, dim=512))

    live = LiveGallery.load(store, model_id, dim)
    assert len(live) == 3
    assert live.gallery.identities == {obama.id, biden.id}
    assert identify(live, faces["obama2"], threshold).identity == obama.id  # another photo of him
    assert identify(live, faces["biden"], threshold).identity == biden.id
    stranger = identify(live, faces["collins"], threshold)
    assert stranger.identity is None and stranger.distance > threshold
    assert live.status_of(obama.id).name == "Barack Obama" and live.status_of(obama.id).active
    assert live.status_of(biden.id).valid_until == datetime(2030, 1, 20, tzinfo=UTC).timestamp()
    assert live.status_of(other_only.id) is not None  # known, but not matchable with this model
    assert live.status_of(12345) is None
    assert live.refresh() == frozenset()  # nothing changed since load


def test_refresh_follows_every_kind_of_change(store, writer, faces, model):
    model_id, dim, threshold = model
    biden = writer.enroll("Joe Biden", faces["biden"])
    live = LiveGallery.load(store, model_id, dim)
    assert identify(live, faces["obama2"], threshold).identity is None

    obama = writer.enroll("Barack Obama", faces["obama"])  # enroll
    assert live.refresh() == {obama.id}
    assert identify(live, faces["obama2"], threshold).identity == obama.id
    assert len(live) == 2

    writer.add_template(obama.id, faces["obama3"])  # another photo
    assert live.refresh() == {obama.id}
    assert len(live) == 3 and identify(live, faces["obama3"], threshold).distance < 1e-3

    writer.set_active(obama.id, False)  # deactivate: still recognised, but the policy sees inactive
    assert live.refresh() == {obama.id}
    assert live.status_of(obama.id).active is False and len(live) == 3

    writer.update_person(
        obama.id, name="President Obama", active=True, valid_from=datetime.now(UTC) + timedelta(days=1)
    )  # edit
    assert live.refresh() == {obama.id}
    status = live.status_of(obama.id)
    assert (status.name, status.active) == ("President Obama", True)
    assert status.valid_from > datetime.now(UTC).timestamp()

    writer.remove_person(obama.id)  # erase
    assert live.refresh() == {obama.id}
    assert live.status_of(obama.id) is None
    assert live.gallery.identities == {biden.id} and len(live) == 1
    assert identify(live, faces["obama2"], threshold).identity is None
    assert identify(live, faces["biden"], threshold).identity == biden.id

    assert live.refresh() == frozenset()
    fresh = LiveGallery.load(store, model_id, dim)
    assert len(fresh) == len(live) and fresh.gallery.identities == live.gallery.identities


def test_templates_of_another_model_never_enter_the_gallery(store, writer, faces, model):
    model_id, dim, threshold = model
    obama = writer.enroll("Barack Obama", faces["obama"])
    live = LiveGallery.load(store, model_id, dim)
    foreign = new_template(model_id=OTHER_MODEL, dim=512)
    writer.add_template(obama.id, foreign)
    newcomer = writer.enroll("Other model only", new_template(model_id=OTHER_MODEL, dim=512))
    assert live.refresh() == {obama.id, newcomer.id}
    assert len(live) == 1 and live.gallery.identities == {obama.id}
    assert live.status_of(newcomer.id).name == "Other model only"
    assert identify(live, faces["obama2"], threshold).identity == obama.id


def test_a_pruned_change_log_makes_the_gallery_reload_in_full_and_correctly(store, writer, faces, model):
    model_id, dim, threshold = model
    obama = writer.enroll("Barack Obama", faces["obama"])
    biden = writer.enroll("Joe Biden", faces["biden"])
    live = LiveGallery.load(store, model_id, dim)
    gallery_before = live.gallery

    # while this kiosk was away: someone enrolled, someone erased, someone deactivated...
    collins = writer.enroll("Eileen Collins", faces["collins"])
    writer.remove_person(obama.id)
    writer.set_active(biden.id, False)
    # ...and the change log was pruned past the kiosk's position
    last = writer.db.execute("SELECT max(seq) FROM changes").fetchone()[0]
    writer.db.execute("DELETE FROM changes WHERE seq <= ?", [last])
    writer.set_setting("changes_pruned_through", last)

    changed = live.refresh()
    assert live.gallery is not gallery_before  # rebuilt, not patched
    assert changed >= {biden.id, collins.id}
    assert live.gallery.identities == {biden.id, collins.id} and len(live) == 2
    assert live.status_of(obama.id) is None and live.status_of(biden.id).active is False
    assert identify(live, faces["collins"], threshold).identity == collins.id
    assert identify(live, faces["obama2"], threshold).identity is None

    # later changes are followed incrementally again
    writer.add_template(collins.id, new_template(model_id=model_id, encoding=faces["collins"].encoding * 1.0))
    assert live.refresh() == {collins.id} and len(live) == 3


def test_the_retention_pruning_at_open_also_leads_to_a_correct_reload(store, tmp_path, faces, model):
    model_id, dim, threshold = model
    obama = store.enroll("Barack Obama", faces["obama"])
    live = LiveGallery.load(store, model_id, dim)
    with Store.open(tmp_path / "faceguard.db") as admin:
        biden = admin.enroll("Joe Biden", faces["biden"])
        admin.remove_person(obama.id)
        admin.db.execute("UPDATE changes SET time = '2020-01-01T00:00:00.000Z'")  # weeks ago
    with Store.open(tmp_path / "faceguard.db") as admin:  # a writer opening the file prunes the log
        assert admin.db.execute("SELECT count(*) FROM changes").fetchone()[0] == 0
        assert admin.get_setting("changes_pruned_through") > 0
    live.refresh()
    assert live.gallery.identities == {biden.id} and len(live) == 1
    assert live.status_of(obama.id) is None
    assert identify(live, faces["biden"], threshold).identity == biden.id
    assert identify(live, faces["obama"], threshold).identity is None
    store.set_active(biden.id, False)
    assert live.refresh() == {biden.id} and live.status_of(biden.id).active is False


def test_a_gallery_loaded_after_a_pruning_follows_later_changes(store, tmp_path, faces, model):
    model_id, dim, _ = model
    obama = store.enroll("Barack Obama", faces["obama"])
    store.db.execute("UPDATE changes SET time = '2020-01-01T00:00:00.000Z'")
    with Store.open(tmp_path / "faceguard.db"):
        pass  # pruned
    live = LiveGallery.load(store, model_id, dim)
    assert live.gallery.identities == {obama.id}
    store.set_active(obama.id, False)
    assert live.refresh() == {obama.id} and live.status_of(obama.id).active is False
    assert live.refresh() == frozenset()
    np.testing.assert_array_equal(store.load_encodings(model_id)[0], [obama.id])
