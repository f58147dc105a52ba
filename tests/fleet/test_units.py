"""How fleet sources split into VM units (`loglens.fleets.units`), over path lists and real directories."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from loglens.fleets.units import discover, group_files


def test_trees_and_archives_are_units_at_any_depth():
    roots = group_files(
        [
            "vm-1/var/log/waagent.log",
            "vm-1/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status/0.status",
            "vm-1/instance-view.json",
            "eu/vm-2/var/log/azure/custom-script/handler.log",
            "eu/vm-3.zip",
            "vm-4.tar.gz",
        ]
    )
    assert roots == {"vm-1": True, "eu/vm-2": True, "eu/vm-3.zip": False, "vm-4.tar.gz": False}


def test_a_directory_of_loose_files_is_one_vm_and_keeps_its_subdirectories():
    roots = group_files(["vm-7/waagent.log", "vm-7/logs/handler.log", "vm-7/bundle.zip", "vm-8/waagent.log.1"])
    assert roots == {"vm-7": True, "vm-8": True}


def test_a_loose_file_beside_vm_trees_is_its_own_vm_and_documents_are_not_vms():
    roots = group_files(["vm-1/var/log/waagent.log", "waagent-vm9.log", "README.md", "notes.txt", ".DS_Store"])
    assert roots == {"vm-1": True, "waagent-vm9.log": False, "notes.txt": False}


def test_a_grouping_directory_with_a_note_does_not_swallow_its_vms():
    roots = group_files(["eu/readme.txt", "eu/vm-1/var/log/waagent.log", "eu/vm-2/var/log/waagent.log"])
    assert roots == {"eu/vm-1": True, "eu/vm-2": True, "eu/readme.txt": False}


def test_a_source_that_is_one_vm_tree_is_one_unit():
    assert group_files(["var/log/waagent.log", "etc/waagent.conf", "instance-view.json"]) == {".": True}


def test_discover_names_vms_relative_to_their_source(tmp_path):
    (tmp_path / "fleet" / "eu" / "vm-1" / "var" / "log").mkdir(parents=True)
    (tmp_path / "fleet" / "eu" / "vm-1" / "var" / "log" / "waagent.log").write_text("x\n")
    with zipfile.ZipFile(tmp_path / "fleet" / "vm-2.zip", "w") as bundle:
        bundle.writestr("var/log/waagent.log", "y\n")
    (tmp_path / "out").mkdir()
    found = discover([str(tmp_path / "fleet"), str(tmp_path / "fleet" / "vm-2.zip")], exclude=tmp_path / "out")
    assert [(u.vm, u.is_directory, u.files) for u in found.units] == [
        ("eu/vm-1", True, 1),
        ("vm-2.zip", False, 1),
        ("vm-2.zip", False, 1),
    ]
    # The same id from one location twice is no conflict; the fingerprint follows the content.
    assert found.warnings == []
    before = found.units[0].fingerprint
    (tmp_path / "fleet" / "eu" / "vm-1" / "var" / "log" / "waagent.log").write_text("longer\n")
    assert discover([str(tmp_path / "fleet")]).units[0].fingerprint != before


def test_globs_missing_paths_and_the_output_directory(tmp_path):
    for name in ("a.zip", "b.zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as bundle:
            bundle.writestr("var/log/waagent.log", "x\n")
    found = discover([str(tmp_path / "*.zip"), str(tmp_path / "missing"), str(tmp_path / "none-*.zip")])
    assert [u.vm for u in found.units] == ["a.zip", "b.zip"]
    assert found.warnings == [
        f"{tmp_path / 'missing'}: no such file or directory",
        f"{tmp_path / 'none-*.zip'}: no file matches this pattern",
    ]
    out = tmp_path / "dataset"
    (out / "vms").mkdir(parents=True)
    (out / "vms" / "x.parquet").write_bytes(b"PAR1")
    assert "dataset" not in " ".join(u.vm for u in discover([str(tmp_path)], exclude=out).units)


def test_stems_are_file_names_unique_per_vm():
    from loglens.fleets.units import Unit

    def stem(vm: str) -> str:
        return Unit(vm, "s", "/x", True, 0, 0, "0").stem

    assert stem("eu/vm-1") != stem("eu_vm-1")
    assert "/" not in stem("eu/vm-1")
    assert "/" not in stem("../../etc") and not stem("../../etc").startswith(".")
    assert all(c.isalnum() or c in "-_." for c in stem("vm \u202e\n1"))


def _vm_tree(root: Path, name: str) -> None:
    log = root / name / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text("2025-06-11T03:00:01.000001Z ERROR ExtHandler ExtHandler x\n")


def test_an_earlier_dataset_inside_the_source_is_not_read_as_vms(tmp_path):
    _vm_tree(tmp_path, "vm1")
    dataset = tmp_path / "old-out"
    for part in ("vms", "findings", "evidence"):
        (dataset / part).mkdir(parents=True)
        (dataset / part / "columns.parquet").write_bytes(b"PAR1")
    found = discover([str(tmp_path)])
    assert [u.vm for u in found.units] == ["vm1"]
    assert any("old-out: a loglens fleet dataset" in w for w in found.warnings)


def test_links_are_named_and_never_followed_as_in_analyze(tmp_path):
    source, outside = tmp_path / "src", tmp_path / "outside"
    _vm_tree(source, "vm1")
    _vm_tree(outside, "vmx")
    (source / "vmlink").symlink_to(outside / "vmx")
    (source / "vm1" / "var" / "log" / "waagent.log.1").symlink_to(outside / "vmx" / "var" / "log" / "waagent.log")
    found = discover([str(source)])
    assert [(u.vm, u.files) for u in found.units] == [("vm1", 1)]
    assert any("vmlink: symbolic link to a directory not followed" in w for w in found.warnings)
    assert any("waagent.log.1: symbolic link skipped" in w for w in found.warnings)


def test_a_bang_in_a_directory_name_is_not_an_archive_member(tmp_path):
    for name in ("case!1", "case!2"):
        _vm_tree(tmp_path, name)
    assert sorted(u.vm for u in discover([str(tmp_path)]).units) == ["case!1", "case!2"]


def test_blob_names_that_climb_out_are_refused(tmp_path, monkeypatch):
    """An fsspec memory file system answering like adlfs: `..` names never leave the scratch directory."""
    import fsspec

    from loglens.fleets import storage

    memory = fsspec.filesystem("memory")
    memory.pipe("/c/fleet/vm1/var/log/waagent.log", b"x\n")
    memory.pipe("/c/fleet/vm1/../../../escaped.log", b"x\n")
    monkeypatch.setattr(storage, "filesystem", lambda _connection: memory)
    monkeypatch.setattr(storage, "_path_of", lambda url: "/c/fleet/vm1")
    listed = storage.list_blobs("az://c/fleet/vm1", None)
    assert all(".." not in name for name in listed)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(storage.StorageError, match="outside the scratch directory"):
        storage.download("az://c/fleet/vm1", ("../../escaped.log",), True, scratch, None)
    assert not (tmp_path / "escaped.log").exists()
    assert storage.confined(scratch, "vm1/var/log/waagent.log") == (scratch / "vm1/var/log/waagent.log").resolve()
