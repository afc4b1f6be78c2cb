import os

from bench import environment


def _env(load_start: float) -> dict:
    return {"cpu_count": 2, "load_average": [load_start, 0.0, 0.0], "warnings": []}


def test_own_load_at_the_end_is_not_called_busy(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (1.06, 0.9, 0.5))
    env = environment.finish(_env(0.2))
    assert env["busy"]["busy"] is False and env["warnings"] == []


def test_other_load_at_the_end_is_warned_about(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (2.7, 1.5, 0.8))
    env = environment.finish(_env(0.2))
    assert env["busy"]["busy"] is True
    assert "busy at the end" in env["warnings"][0] and "2.70" in env["warnings"][0]


def test_capture_warns_when_busy_at_start(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 4.0, 3.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    env = environment.capture()
    assert any("busy at start" in w for w in env["warnings"])
    assert env["cpu_count"] == 2 and env["python"]["version"]
