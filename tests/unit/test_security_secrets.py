"""Keys without a database (issue 12, finding 1): no published default session key, a random key created once
per installation and reused (0600, safe when several workers start at once), a refusal to start with a known
default, and analysts' pseudonyms keyed apart from the session key."""
import multiprocessing
import stat

import pytest

from core.settings import InsecureSecret, Settings
from services.privacy import pseudonym
from tests.support.apps import offline_settings

OLD_DEFAULT = "dev-only-secret-change-me"


def _settings(tmp_path, **overrides) -> Settings:
    return Settings(var_dir=tmp_path, **overrides)


def test_the_app_never_signs_with_the_published_default_key(make_offline_app, tmp_path):
    # The attack: `make run` signed session cookies with this well-known key, so anyone could forge one.
    app = make_offline_app(offline_settings(var_dir=tmp_path))
    assert app.config["SECRET_KEY"] != OLD_DEFAULT
    assert app.secret_key == _settings(tmp_path).session_secret(), "the installation's own key"
    assert Settings.model_fields["secret_key"].default is None, "no default secret at all"


def test_the_session_key_is_created_once_and_reused(tmp_path):
    key = _settings(tmp_path).session_secret()
    key_file = tmp_path / "secrets" / "session.key"
    assert len(key) >= 64 and key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, "readable by the owner only"
    assert _settings(tmp_path).session_secret() == key, "a new process reads the same key"
    assert _settings(tmp_path / "other").session_secret() != key, "each installation its own"


def _read_key(var_dir: str, kind: str) -> str:
    settings = Settings(var_dir=var_dir)
    return settings.session_secret() if kind == "session" else settings.pseudonym_secret()


@pytest.mark.parametrize("kind", ["session", "pseudonym"])
def test_workers_starting_together_agree_on_one_key(tmp_path, kind):
    # gunicorn starts its workers at once (no preload): each may find no key file yet.
    with multiprocessing.get_context("fork").Pool(8) as pool:
        keys = pool.starmap(_read_key, [(str(tmp_path), kind)] * 16)
    assert len(set(keys)) == 1 and keys[0]


def test_a_configured_key_is_used_as_given(tmp_path):
    settings = _settings(tmp_path, secret_key="s" * 40, pseudonym_key="p" * 40)
    assert settings.session_secret() == "s" * 40 and settings.pseudonym_secret() == "p" * 40
    assert not (tmp_path / "secrets").exists(), "no key files when keys are configured"


@pytest.mark.parametrize("weak", [OLD_DEFAULT, "change-me", "changeme", "secret", "", "   "])
def test_a_known_default_key_is_refused_at_start(make_offline_app, tmp_path, weak):
    with pytest.raises(InsecureSecret):
        _settings(tmp_path, secret_key=weak).session_secret()
    with pytest.raises(InsecureSecret):
        make_offline_app(offline_settings(var_dir=tmp_path, secret_key=weak))


def test_pseudonyms_are_keyed_apart_from_sessions(tmp_path):
    settings = _settings(tmp_path)
    assert settings.pseudonym_secret() != settings.session_secret()
    assert (tmp_path / "secrets" / "pseudonym.key").exists()
    household = "4331231010010001"
    assert pseudonym(settings.pseudonym_secret(), household) != pseudonym(settings.session_secret(), household)
    with pytest.raises(InsecureSecret):  # one key for both would let a session-key holder reverse pseudonyms
        _settings(tmp_path, secret_key="k" * 40, pseudonym_key="k" * 40).pseudonym_secret()
