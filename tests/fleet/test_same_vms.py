"""`loglens analyze` and `loglens fleet` see the same VMs in a tree: the same files, the same names.

Each fixture is built on disk from the sample logs. The VMs `analyze` finds (its collections, and
the `vm` names of its JSON `vms`) are compared with the units `fleet` finds (`discover`), each
unit's files being what `analyze` reads of its location alone: the files a fleet worker analyses.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

from loglens.fleets.units import discover
from parsers.load import load_sources
from tests.fleet.conftest import run_loglens

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
MODERN = SAMPLES / "vm-modern"


def _tree(root: Path, name: str) -> None:
    shutil.copytree(SAMPLES / "vm-legacy", root / name)


def _zip(path: Path, members: dict[str, Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as bundle:
        for name, source in members.items():
            bundle.writestr(name, source.read_bytes())


def _downloads(directory: Path) -> None:
    """A VM's files downloaded one by one: no `var/` tree, just the files."""
    directory.mkdir(parents=True)
    shutil.copy(MODERN / "var/log/waagent.log", directory / "waagent.log")
    shutil.copy(MODERN / "instance-view.json", directory / "instance-view.json")


def disagreeing(root: Path) -> Path:
    """The tree `analyze` took for one VM and `fleet` for three, before they shared a grouping:
    a VM tree, a folder of another VM's downloaded files, and a third VM's log beside them."""
    _tree(root, "vm-1")
    _downloads(root / "vm-2")
    shutil.copy(SAMPLES / "vm-healthy/var/log/waagent.log", root / "vm-9-waagent.log")
    return root


def several(root: Path) -> Path:
    """Trees at two depths, a zip, and a folder of downloaded files."""
    _tree(root, "eu/vm-1")
    _tree(root, "us/vm-3")
    _zip(root / "eu/vm-2.zip", {"var/log/waagent.log": MODERN / "var/log/waagent.log"})
    _downloads(root / "asia/vm-4")
    return root


def two_vms_in_one_archive(root: Path) -> Path:
    """An archive holding two VMs' trees: one bundle, one VM to both (its members are not split)."""
    log = SAMPLES / "vm-legacy/var/log/waagent.log"
    _zip(root / "both.zip", {"vm-a/var/log/waagent.log": log, "vm-b/var/log/waagent.log": log})
    return root


def downloads_only(root: Path) -> Path:
    """Folders of downloaded files and no tree: a VM per folder (`analyze` once took all for one)."""
    _downloads(root / "vm-7")
    _downloads(root / "vm-8")
    return root


def one_loose_file(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(MODERN / "var/log/waagent.log", root / "waagent.log")
    return root


FIXTURES = {
    "disagreeing": disagreeing,
    "several": several,
    "two_vms_in_one_archive": two_vms_in_one_archive,
    "downloads_only": downloads_only,
    "one_loose_file": one_loose_file,
}


def analyze_vms(source: Path) -> dict[str, set[str]]:
    """`analyze`'s VMs under ``source``: collection -> the files read for it."""
    placed = load_sources([source]).collections()
    return {vm: {p for p, name in placed.items() if name == vm} for vm in set(placed.values())}


def fleet_vms(source: Path) -> dict[str, set[str]]:
    """`fleet`'s units under ``source``: location -> the files a worker reads for it."""
    return {
        unit.location: {a.path for a in load_sources([unit.location]).accounts}
        for unit in discover([str(source)]).units
    }


@pytest.mark.parametrize("build", FIXTURES.values(), ids=FIXTURES.keys())
def test_analyze_and_fleet_group_the_same_files(tmp_path, build):
    source = build(tmp_path.resolve() / "src")
    assert analyze_vms(source) == fleet_vms(source)


def test_the_sample_logs_are_the_same_vms_to_both():
    assert analyze_vms(SAMPLES) == fleet_vms(SAMPLES)


def test_the_disagreeing_tree_is_three_vms(tmp_path):
    source = disagreeing(tmp_path.resolve() / "src")
    assert sorted(analyze_vms(source)) == [str(source / n) for n in ("vm-1", "vm-2", "vm-9-waagent.log")]


@pytest.mark.parametrize("build", FIXTURES.values(), ids=FIXTURES.keys())
def test_the_json_vms_are_fleets_units_by_name_and_inputs(tmp_path, build):
    json_vms_are_fleets_units(build(tmp_path.resolve() / "src"))


def test_the_sample_logs_json_vms_are_fleets_units():
    json_vms_are_fleets_units(SAMPLES)


def json_vms_are_fleets_units(source: Path) -> None:
    run = run_loglens("analyze", str(source), "--json", "-")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    named = {vm["vm"]: set(vm["inputs"]) for vm in document["vms"]}
    units = {unit.vm: unit.location for unit in discover([str(source)]).units}
    assert named == {vm: fleet_vms(source)[location] for vm, location in units.items()}
    # Every finding names one of the VMs listed; every input is in exactly one VM.
    assert {f["collection"] for f in document["findings"]} <= {vm["collection"] for vm in document["vms"]}
    assert sorted(p for vm in document["vms"] for p in vm["inputs"]) == sorted(i["path"] for i in document["inputs"])


def test_a_loose_file_named_alone_is_a_vm_named_as_fleet_names_it(tmp_path):
    source = one_loose_file(tmp_path.resolve() / "src") / "waagent.log"
    document = json.loads(run_loglens("analyze", str(source), "--json", "-").stdout)
    ((unit,),) = [discover([str(source)]).units]
    assert [(vm["vm"], vm["inputs"]) for vm in document["vms"]] == [(unit.vm, [str(source)])] == [
        ("waagent.log", [str(source)])
    ]


def test_healthy_vms_are_listed_with_their_own_verdict():
    run = run_loglens("analyze", str(SAMPLES), "--json", "-")
    document = json.loads(run.stdout)
    vms = {vm["vm"]: vm for vm in document["vms"]}
    assert sorted(vms) == ["vm-healthy", "vm-legacy", "vm-modern", "vm-rhel-logcollector.zip"]
    healthy = vms["vm-healthy"]
    assert healthy["summary"] == {"error": 0, "warning": 0, "info": 0}
    assert healthy["verdict"].startswith("No errors or warnings found")
    for vm in vms.values():
        mine = [f for f in document["findings"] if f["collection"] == vm["collection"]]
        assert vm["summary"] == {s: sum(f["severity"] == s for f in mine) for s in ("error", "warning", "info")}
    # Each VM's verdict is the one `analyze` gives that VM alone.
    alone = json.loads(run_loglens("analyze", str(SAMPLES / "vm-legacy"), "--json", "-").stdout)
    assert vms["vm-legacy"]["verdict"] == alone["verdict"]


def test_fleet_on_a_local_cluster_names_the_vms_analyze_lists(tmp_path):
    source = disagreeing(tmp_path.resolve() / "src")
    several(source / "more")
    out = tmp_path / "out"
    done = run_loglens("fleet", str(source), "--out", str(out), "--workers", "2", "-q")
    assert done.returncode == 0, done.stderr
    rows = pl.read_parquet(out / "vms" / "*.parquet").sort("vm")
    document = json.loads(run_loglens("analyze", str(source), "--json", "-").stdout)
    listed = sorted(document["vms"], key=lambda vm: vm["vm"])
    assert rows["vm"].to_list() == [vm["vm"] for vm in listed]
    assert rows["errors"].to_list() == [vm["summary"]["error"] for vm in listed]
    assert rows["warning_findings"].to_list() == [vm["summary"]["warning"] for vm in listed]


def test_one_vm_of_a_load_keeps_its_name(tmp_path):
    """A part of a load (`by_collection`, a lens's `vm`) is named as in the whole: a loose file
    beside VM trees stays a VM by its own path, though alone its folder would hold it."""
    import loglens

    source = disagreeing(tmp_path.resolve() / "src")
    whole = load_sources([source])
    for name, part in whole.by_collection().items():
        assert set(part.collections().values()) == {name}
        assert part.vm_names() == {name: whole.vm_names()[name]}
    lens = loglens.load(source).vm(str(source / "vm-9-waagent.log"))
    assert lens.collections == [str(source / "vm-9-waagent.log")]
    assert {f.collection for f in lens.findings} <= {str(source / "vm-9-waagent.log")}
