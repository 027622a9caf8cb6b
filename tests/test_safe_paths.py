"""File names from outside input stay inside their folder (bot.security.paths)."""
from __future__ import annotations

import uuid

import pytest

from bot.security.paths import UnsafePath, safe_child


def test_safe_child_keeps_names_inside_their_folder(tmp_path):
    folder = tmp_path / "voicemail"
    folder.mkdir()
    assert safe_child(folder, "call-1", ".wav") == folder.resolve() / "call-1.wav"
    assert safe_child(folder, "/etc/passwd") == folder.resolve() / "_etc_passwd"
    assert safe_child(folder, "../../x", ".wav") == folder.resolve() / "_.._x.wav"
    assert safe_child(folder, "CA" + "x" * 500).name == "CA" + "x" * 118
    (folder / "link.wav").symlink_to(tmp_path / "elsewhere.wav")
    for name in ("..", "...", "", "/", "link"):
        with pytest.raises(UnsafePath):
            safe_child(folder, name, ".wav")
    assert uuid.UUID(safe_child(folder, str(uuid.UUID(int=7))).name)  # UUIDs pass unchanged
