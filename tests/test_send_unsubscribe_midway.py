"""A reader who unsubscribes while a send is under way (qa17): their row must end as skipped and
count as "unsubscribed before their turn", not stay queued and be reported as "deferred for
retry" — a retry that no run would ever make (the retries job said "no retries due")."""

from __future__ import annotations

import pytest

from pipeline.stores.subscribers import SubscriberStore
from tests.conftest import NOW
from tests.newsletter_helpers import Recorder, smtp_server
from tests.test_delivery_faults import SECRET, send, setup, statuses


class UnsubscribeOnFirstMessage(Recorder):
    """Accepts every message; while the first one is being accepted, ``victim`` unsubscribes
    (through the subscriber store, on its own connection to the state database)."""

    def __init__(self, state_dir, victim: str):
        super().__init__()
        self.state_dir, self.victim, self.done = state_dir, victim, False

    async def handle_DATA(self, server, session, envelope):
        if not self.done:
            self.done = True
            with SubscriberStore.open(self.state_dir) as store:
                store.unsubscribe(store.find(self.victim).uid, now=NOW)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOAL17_SECRET", SECRET)


def test_a_reader_who_unsubscribes_mid_send_is_skipped_not_left_deferred(
    tmp_path, content_dir, write_update, capsys
) -> None:
    recorder = UnsubscribeOnFirstMessage(tmp_path / "state", "reader005@example.se")
    with smtp_server(recorder) as port:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, port, 10)
        assert send(config_file) == 0
        out = capsys.readouterr().out
        assert recorder.done
        assert "reader005@example.se" not in recorder.recipients()
        assert sorted(recorder.recipients()) == sorted(r for r in readers if r != "reader005@example.se")
        assert "1 unsubscribed before their turn" in out, out
        assert "0 deferred for retry" in out, out
        assert statuses(settings)["reader005@example.se"][0] == "skipped"


def test_real_mail_is_never_signed_with_the_public_development_secret(
    tmp_path, content_dir, write_update, monkeypatch, capsys
) -> None:
    """qa17: ``GOAL17_SECRET=<the development secret from the source code> send --transport smtp``
    mailed every reader unsubscribe and preferences links anyone can forge (``web`` refuses that
    value; ``send`` took it). Refused before anything is sent, like an unset secret."""
    from pipeline.delivery.tokens import DEVELOPMENT_SECRET

    recorder = Recorder()
    with smtp_server(recorder) as port:
        config_file, settings, readers = setup(tmp_path, content_dir, write_update, port, 3)
        monkeypatch.setenv("GOAL17_SECRET", DEVELOPMENT_SECRET.decode())
        assert send(config_file) == 1
        err = capsys.readouterr().err
        assert "development secret" in err, err
        assert not recorder.messages
        monkeypatch.setenv("GOAL17_SECRET", SECRET)
        assert send(config_file) == 0
        assert sorted(recorder.recipients()) == sorted(readers)
