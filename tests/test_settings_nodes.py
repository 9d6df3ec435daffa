"""Settings read from the environment: several web nodes share one cache (a per-process cache is
refused when told there are more); an empty DATABASE_URL is the embedded default."""

import runpy
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

import config.settings as settings_module

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _settings_with(monkeypatch, **env) -> dict:
    """Load config/settings.py afresh with these environment variables (and no others of ours)."""
    for name in ("WEB_NODES", "CACHE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings_module.__file__)))


def test_one_node_shares_a_directory_cache_with_its_worker_and_beat_by_default(monkeypatch):
    loaded = _settings_with(monkeypatch)
    assert loaded["WEB_NODES"] == 1
    assert loaded["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert loaded["CACHES"]["default"]["LOCATION"].endswith("/.data/cache")


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_several_nodes_with_a_cache_of_each_process_refuse_to_start(monkeypatch, cache_url):
    with pytest.raises(ImproperlyConfigured, match=r"WEB_NODES is 3 .*CACHE_URL .*redis://"):
        _settings_with(monkeypatch, WEB_NODES="3", CACHE_URL=cache_url)


@pytest.mark.parametrize("web_nodes", ["0", "-2"])
def test_fewer_than_one_node_is_refused(monkeypatch, web_nodes):
    with pytest.raises(ImproperlyConfigured, match="WEB_NODES must be at least 1"):
        _settings_with(monkeypatch, WEB_NODES=web_nodes)


def test_an_unknown_cache_url_is_refused_naming_it(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL is not a cache URL"):
        _settings_with(monkeypatch, CACHE_URL="carrierpigeon://loft")


def test_several_nodes_share_a_redis_cache_through_djangos_own_backend(monkeypatch):
    loaded = _settings_with(monkeypatch, WEB_NODES="4", CACHE_URL="redis://127.0.0.1:6379/1")
    cache = loaded["CACHES"]["default"]
    assert cache["BACKEND"] == REDIS_CACHE
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/1"
    # A cache that is down fails a request quickly instead of hanging it.
    assert cache["OPTIONS"] == {"socket_connect_timeout": 0.4, "socket_timeout": 0.5}


def test_redis_cache_options_from_the_url_reach_django_in_the_case_it_reads(monkeypatch):
    loaded = _settings_with(
        monkeypatch,
        WEB_NODES="2",
        CACHE_URL="rediss://:secret@cache.internal:6380/2?timeout=30&key_prefix=empower&socket_timeout=2",
    )
    cache = loaded["CACHES"]["default"]
    assert cache["BACKEND"] == REDIS_CACHE
    assert cache["LOCATION"] == "rediss://:secret@cache.internal:6380/2"
    assert cache["TIMEOUT"] == 30
    assert cache["KEY_PREFIX"] == "empower"
    assert cache["OPTIONS"] == {"socket_connect_timeout": 0.4, "socket_timeout": 2}


def test_the_redis_cache_settings_build_a_working_django_cache(monkeypatch):
    """Built only (no server needed): Django accepts the location and the options as given."""
    cache = _settings_with(monkeypatch, CACHE_URL="redis://127.0.0.1:6379/1?key_prefix=empower")["CACHES"]["default"]
    backend = RedisCache(cache["LOCATION"], {k: v for k, v in cache.items() if k not in ("BACKEND", "LOCATION")})
    assert backend.key_prefix == "empower"
    pool_options = backend._cache._pool_options
    assert pool_options["socket_connect_timeout"] == 0.4
    assert pool_options["socket_timeout"] == 0.5


def test_an_empty_database_url_means_the_embedded_default(monkeypatch):
    loaded = _settings_with(monkeypatch, DATABASE_URL="")
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DATABASES"]["default"]["NAME"].endswith("empower.sqlite3")
