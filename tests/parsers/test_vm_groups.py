"""The one VM grouping and walk (`parsers.vm_groups`): path lists in, VMs out; real trees for the walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loglens.fleets.units import Discovery, _walk, discover
from parsers.collect import collect
from parsers.vm_groups import MAX_TREE_DEPTH, assign, members, vm_name, vm_roots

LINE = "2025-06-11T03:00:01.000001Z ERROR ExtHandler ExtHandler x\n"


@pytest.mark.parametrize(
    ("paths", "roots"),
    [
        # A folder of downloaded files and nothing else: the source is the VM.
        (["waagent.log", "iv.json", "ext/handler.log"], {".": True}),
        # Folders of downloaded files: a VM each, with their subfolders.
        (["vm-7/waagent.log", "vm-7/logs/handler.log", "vm-8/waagent.log.1"], {"vm-7": True, "vm-8": True}),
        # A tree inside another VM's tree (a backup copy) is part of it: VMs never nest.
        (["vm/var/log/waagent.log", "vm/backup/var/log/waagent.log"], {"vm": True}),
        # An archive in a VM's folder is that VM's; beside VM trees it is a VM of its own.
        (["vm-7/waagent.log", "vm-7/bundle.zip"], {"vm-7": True}),
        (
            ["vm-1/var/log/waagent.log", "vm-2.zip", "eu/vm-3.tgz"],
            {"vm-1": True, "vm-2.zip": False, "eu/vm-3.tgz": False},
        ),
        # A loose file beside VM trees is a VM by itself; hidden files and top-level documents are none.
        (["vm-1/var/log/waagent.log", "vm9.log", ".DS_Store", "README.md"], {"vm-1": True, "vm9.log": False}),
        # Archive members count as their archive.
        (["b.zip!var/log/waagent.log", "b.zip!az/iv.json"], {"b.zip": False}),
    ],
)
def test_vm_roots(paths, roots):
    assert vm_roots(paths) == roots


def test_members_are_each_files_vm_hidden_ones_included():
    paths = ["vm-1/var/log/waagent.log", "vm-1/.hidden", "vm-1/x.zip", "vm9.log"]
    assert members(paths, vm_roots(paths)) == {
        "vm-1": ["vm-1/var/log/waagent.log", "vm-1/.hidden", "vm-1/x.zip"],
        "vm9.log": ["vm9.log"],
    }


def test_assign_groups_under_each_directory_named_and_places_named_files():
    read = ["d/vm-1/var/log/waagent.log", "d/vm-2/waagent.log", "d/vm-2/iv.json", "d/vm-1/iv.json"]
    read.append("x.zip!var/log/w.log")
    assert assign([*read, "elsewhere/iv.json"], ["d"]) == {
        "d/vm-1/var/log/waagent.log": "d/vm-1",
        "d/vm-2/waagent.log": "d/vm-2",
        "d/vm-2/iv.json": "d/vm-2",
        "d/vm-1/iv.json": "d/vm-1",
        "x.zip!var/log/w.log": "x.zip",
        "elsewhere/iv.json": "elsewhere",  # named alone among several VMs: it stands alone
    }
    # A file named beside one VM loaded joins it.
    assert set(assign(["d/var/log/waagent.log", "downloads/iv.json"], ["d"]).values()) == {"d"}
    # Unread files place loose ones as `fleet` sees them: `x/sub` is part of the folder `x`.
    assert assign(["d/a/var/log/w.log", "d/x/sub/iv.json"], ["d"], ["d/x/notes.log"])["d/x/sub/iv.json"] == "d/x"


def test_vm_names_are_fleets():
    assert vm_name("cases/fleet/eu/vm-1", ["cases/fleet"]) == "eu/vm-1"
    assert vm_name("cases/fleet", ["cases/fleet"]) == "fleet"
    assert vm_name("cases/fleet/vm-2.zip", ["cases/fleet", "cases"]) == "vm-2.zip"
    assert vm_name("downloads/waagent.log") == "waagent.log"
    assert vm_name(".", ["."]) == Path.cwd().name


def test_a_fifo_is_skipped_with_the_same_warning_by_both(tmp_path):
    log = tmp_path / "vm1" / "var" / "log" / "waagent.log"
    log.parent.mkdir(parents=True)
    log.write_text(LINE)
    os.mkfifo(tmp_path / "vm1" / "var" / "log" / "pipe.log")
    warning = f"{tmp_path}/vm1/var/log/pipe.log: not a regular file (a FIFO, socket or device); skipped"
    with collect([tmp_path]) as found:
        assert warning in found.warnings
    discovered = discover([str(tmp_path)])
    assert warning in discovered.warnings
    assert [(u.vm, u.files) for u in discovered.units] == [("vm1", 1)]


def test_a_tree_too_deep_is_cut_at_the_same_depth_by_both(tmp_path):
    deep = tmp_path.joinpath("vm1", *["d"] * (MAX_TREE_DEPTH + 3))
    deep.mkdir(parents=True)
    (deep / "waagent.log").write_text(LINE)
    shallow = tmp_path / "vm1" / "var" / "log" / "waagent.log"
    shallow.parent.mkdir(parents=True)
    shallow.write_text(LINE)
    with collect([tmp_path]) as found:
        read = {s.name for kind in found.sources.values() for s in kind}
        cut = [w for w in found.warnings if f"more than {MAX_TREE_DEPTH} directory levels" in w]
    fleet = Discovery()
    files = _walk(tmp_path, None, fleet)
    assert read == {str(shallow)} and {str(tmp_path / f) for f in files} == read
    assert len(cut) == 1 and [w for w in fleet.warnings if "directory levels" in w] == cut
