"""Finding sources in trees and archives, archive safety, and the documents beside the logs."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

from parsers import load_sources
from parsers.collect import assign_collections, collect, collection_of, kind_of_path
from parsers.formats import FRAME_SCHEMAS
from parsers.schema import polars_schema

REPO = Path(__file__).resolve().parents[2]
TREE = REPO / "tests" / "fixtures" / "vm-rhel-bundle"
BUNDLE = REPO / "sample_logs" / "vm-rhel-logcollector.zip"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("var/log/waagent.log", "waagent"),
        ("collected/vm1/var/log/waagent.log-2025-06-10-1749513600.gz", "waagent"),
        ("var/log/azure/Microsoft.Azure.Extensions.CustomScript/CommandExecution.log", "command_execution"),
        ("var/log/azure/run-command-handler/handler.log", "extension_log"),
        ("var/log/azure/Contoso.X/log_1754384400", "extension_log"),
        ("var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status/3.status", "status"),
        ("var/lib/waagent/Microsoft.CPlat.Core.RunCommandHandlerLinux-1.3.28/status/RC0001.2.status", "status"),
        ("var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/config/3.settings", "settings"),
        ("var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/config/HandlerState", "handler_state"),
        ("etc/waagent.conf", "waagent_conf"),
        ("var/log/syslog", None),
        ("var/lib/waagent/history/2025-06-11T03-02-10__incarnation_5.zip", None),
    ],
)
def test_kind_of_path(path, kind):
    assert kind_of_path(Path(path)) == kind


def test_every_frame_conforms_to_its_schema():
    result = load_sources([TREE])
    assert set(result.frames) == set(FRAME_SCHEMAS)
    for name, frame in result.frames.items():
        assert frame.schema == polars_schema(FRAME_SCHEMAS[name]), name
        # The collector bundle holds no control-plane error, goal state or manifest (their own tests
        # read those: test_control_plane.py, test_goal_state.py).
        assert frame.height > 0 or name in ("command_execution", "control_plane", "goal_state", "handler_manifests"), (
            name
        )


def test_bundle_and_unpacked_tree_give_identical_frames():
    tree, bundle = load_sources([TREE]), load_sources([BUNDLE])
    for name in FRAME_SCHEMAS:
        left = tree.frames[name].with_columns(pl.col("source_path").str.replace(f"^{TREE}/", ""))
        right = bundle.frames[name].with_columns(pl.col("source_path").str.replace(f"^{BUNDLE}!", ""))
        assert left.equals(right), name
    assert [a.path.replace(f"{TREE}/", "") for a in tree.accounts] == [
        a.path.replace(f"{BUNDLE}!", "") for a in bundle.accounts
    ]


def test_tar_gz_bundle_is_read_in_place(tmp_path):
    archive = tmp_path / "vm.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(TREE, arcname=".")
    result = load_sources([archive])
    assert result.frames["waagent"].height == load_sources([TREE]).frames["waagent"].height
    assert all(a.path.startswith(f"{archive}!") for a in result.accounts)
    assert not list(tmp_path.glob("var"))  # nothing extracted next to the archive


@pytest.mark.parametrize("source", [TREE, BUNDLE], ids=["tree", "bundle"])
def test_accounting_adds_up_for_every_member(source):
    result = load_sources([source])
    assert result.accounts and all(a.balanced for a in result.accounts)
    assert result.warnings == []


def _hostile_zip(path: Path) -> Path:
    good = (TREE / "var/log/waagent.log").read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("var/log/waagent.log", good)
        archive.writestr("../../etc/waagent.conf", "AutoUpdate.Enabled=n\n")
        archive.writestr("/etc/waagent.conf", "AutoUpdate.Enabled=n\n")
        link = zipfile.ZipInfo("var/log/azure/x/evil.log")
        link.external_attr = 0o120777 << 16  # a symbolic link entry
        archive.writestr(link, "/etc/shadow")
    return path


def test_hostile_archive_members_are_skipped_with_warnings(tmp_path):
    result = load_sources([_hostile_zip(tmp_path / "bundle.zip")])
    warnings = "\n".join(result.warnings)
    assert warnings.count("unsafe member path") == 2
    assert "symbolic link skipped" in warnings
    assert result.frames["config"].height == 0
    assert result.frames["waagent"].height > 0  # the rest of the bundle is still analysed


def test_zip_bomb_caps(tmp_path, monkeypatch):
    import parsers.archives as archives_module

    monkeypatch.setattr(archives_module, "MAX_ARCHIVE_BYTES", 10_000)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("var/log/waagent.log", (TREE / "var/log/waagent.log").read_bytes())
        zf.writestr("var/log/azure/Foo.Bar/extension.log", b"2025/01/01 00:00:00 x\n" * 5_000)
    result = load_sources([archive])
    assert any("zip bomb" in w for w in result.notes)
    assert result.frames["waagent"].height > 0


def test_member_larger_than_declared_is_stopped(tmp_path):
    archive = tmp_path / "lying.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("var/log/waagent.log", (TREE / "var/log/waagent.log").read_bytes())
    data = bytearray(archive.read_bytes())
    # Shrink the declared size in the central directory: the reader must not trust more bytes.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.infolist()[0]
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    result = load_sources([archive])
    assert any(
        "waagent.log" in w and ("larger than" in w or "read error" in w or "Bad" in w) for w in result.warnings
    ), result.warnings
    assert info.file_size > 100


def test_truncated_and_not_a_zip(tmp_path):
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(BUNDLE.read_bytes()[:300])
    garbage = tmp_path / "garbage.tgz"
    garbage.write_bytes(b"this is not a tarball")
    result = load_sources([truncated, garbage])
    # 300 bytes hold no whole member: the scan for members says which one the file ends in.
    assert any(
        w.startswith(f"{truncated}: not a readable zip, and no member was found by scanning: member ")
        and "cut short" in w
        for w in result.notes
    ), result.notes
    assert any(w.startswith(f"{garbage}: unreadable archive") for w in result.notes)


def test_malformed_json_status_is_reported_and_kept_visible(tmp_path):
    status = tmp_path / "var/lib/waagent/Foo.Bar-1.0/status/0.status"
    status.parent.mkdir(parents=True)
    status.write_text('[{"status": {"status": "error", "code": 1,\n')
    result = load_sources([tmp_path])
    (warning,) = result.warnings
    assert warning.startswith(f"{status}: not valid JSON")
    account = result.accounts[0]
    assert (account.lines, account.unparsed, account.records) == (1, 1, 0)
    assert result.frames["status"]["message"][0].startswith('[{"status"')


def test_status_files_read_like_the_agent(tmp_path):
    base = tmp_path / "var/lib/waagent/Microsoft.Azure.Monitor.AzureMonitorLinuxAgent-1.33.2/status"
    base.mkdir(parents=True)
    (base / "0.status").write_text(
        json.dumps(
            [
                {
                    "version": "1.0",
                    "timestampUTC": "2025-03-14T10:20:33Z",
                    "status": {
                        "operation": "Install",
                        "status": "failed",
                        "code": "51",
                        "formattedMessage": {"lang": "en-US", "message": "Unsupported operating system: debian 9.13"},
                        "substatus": [{"name": "ErrorClarification", "status": "error", "code": 2}],
                    },
                }
            ]
        )
    )
    result = load_sources([tmp_path])
    row = result.frames["status"].row(0, named=True)
    assert (row["status"], row["status_reported"], row["code"], row["level"]) == ("error", "failed", 51, "ERROR")
    assert (row["extension"], row["extension_version"], row["sequence"]) == (
        "Microsoft.Azure.Monitor.AzureMonitorLinuxAgent",
        "1.33.2",
        0,
    )
    assert result.frames["substatus"].select("name", "code").row(0) == ("ErrorClarification", 2)


def test_protected_settings_never_reach_a_frame(tmp_path):
    config = tmp_path / "var/lib/waagent/Foo.Bar-1.0/config"
    config.mkdir(parents=True)
    (config / "4.settings").write_text(
        json.dumps(
            {
                "runtimeSettings": [
                    {
                        "handlerSettings": {
                            "publicSettings": {"fileUris": ["https://x.blob.core.windows.net/c/s.sh?sig=SECRETSIG"]},
                            "protectedSettings": "MIIBsSECRETCIPHERTEXT==",
                            "protectedSettingsCertThumbprint": "ABC123",
                        }
                    }
                ]
            }
        )
    )
    result = load_sources([tmp_path])
    for frame in result.frames.values():
        text = frame.write_csv() if not any(isinstance(t, pl.List) for t in frame.dtypes) else str(frame.to_dicts())
        assert "SECRETCIPHERTEXT" not in text and "SECRETSIG" not in text
    row = result.frames["settings"].row(0, named=True)
    assert (row["has_protected_settings"], row["protected_settings_thumbprint"], row["public_setting_keys"]) == (
        True,
        "ABC123",
        ["fileUris"],
    )


def test_instance_view_whole_and_extensions_only(tmp_path):
    extensions = [
        {
            "name": "cse",
            "type": "Microsoft.Azure.Extensions.CustomScript",
            "typeHandlerVersion": "2.1",
            "statuses": [
                {
                    "code": "ProvisioningState/failed/0",
                    "displayStatus": "Provisioning failed",
                    "level": "Error",
                    "message": "Enable failed: failed to execute command: command terminated with exit status=127\n[stdout]\n\n[stderr]\n/bin/sh: 1: ech: not found\n",
                }
            ],
        }
    ]
    (tmp_path / "a.json").write_text(json.dumps(extensions))
    (tmp_path / "b.json").write_text(json.dumps({"name": "vm", "instanceView": {"extensions": extensions}}))
    # One element of the list pasted on its own (as Microsoft Learn's extension docs show it).
    (tmp_path / "c.json").write_text(json.dumps(extensions[0], indent=2))
    result = load_sources([tmp_path])
    frame = result.frames["instance_view"]
    assert frame.height == 3 and frame["scope"].to_list() == ["extension"] * 3
    assert all(a.unparsed == 0 for a in result.accounts), result.accounts
    row = frame.row(0, named=True)
    assert (row["code_kind"], row["code_state"], row["code_number"], row["level"]) == (
        "ProvisioningState",
        "failed",
        0,
        "ERROR",
    )
    assert (row["operation"], row["stdout"], row["stderr"]) == ("Enable", "", "/bin/sh: 1: ech: not found\n")


def test_vm_model_and_agent_config(tmp_path):
    result = load_sources([TREE])
    vm = result.frames["vm_extensions"].filter(pl.col("name") == "HealthExtension").row(0, named=True)
    assert (
        vm["extension"],
        vm["type_handler_version"],
        vm["auto_upgrade_minor_version"],
        vm["enable_automatic_upgrade"],
    ) == ("Microsoft.ManagedServices.ApplicationHealthLinux", "2.0", True, True)
    config = dict(result.frames["config"].select("key", "value").iter_rows())
    assert config["AutoUpdate.Enabled"] == "n"
    version = result.frames["agent_version"].row(0, named=True)
    assert (version["package_version"], version["distro"], version["goal_state_agent"]) == (
        "2.2.49.2",
        "redhat 8.8",
        "2.2.49.2",
    )


def test_symlinks_in_trees_are_skipped(tmp_path):
    (tmp_path / "var/log").mkdir(parents=True)
    (tmp_path / "var/log/waagent.log").symlink_to("/etc/hostname")
    with collect([tmp_path]) as found:
        assert found.sources["waagent"] == []
        assert any("symbolic link skipped" in w for w in found.warnings)


def test_named_json_file_is_read_by_its_content_and_its_problem_named(tmp_path):
    # An instance view by its keys (a cut-off one kept as one searchable text record); any other
    # JSON as control-plane error text, which this one is not.
    broken, other = tmp_path / "instanceview.json", tmp_path / "notes.json"
    broken.write_text('{"instanceView": {"extensions": [\n')
    other.write_text('{"a": 1,\n "b": 2}\n')
    result = load_sources([broken, other])
    assert [a.kind for a in result.accounts] == ["instance_view", "control_plane"]
    assert any(w.startswith(f"{broken}: not valid JSON") and "kept as one text record" in w for w in result.warnings)
    assert any(w.startswith(f"{other}: JSON without any error message loglens knows") for w in result.warnings)
    kept, rejected = result.accounts
    assert (kept.records, kept.continuations, kept.unparsed) == (1, kept.lines - 1, 0)
    assert (rejected.records, rejected.continuations, rejected.unparsed) == (0, 0, rejected.lines)
    assert all(a.balanced for a in result.accounts)


@pytest.mark.parametrize(
    ("relative", "text", "reason"),
    [
        ("var/lib/waagent/Foo.Bar-1.0/status/0.status", '"just a string"', "JSON is not a status document"),
        ("var/lib/waagent/Foo.Bar-1.0/config/0.settings", '{"runtimeSettings": []}', "JSON is not a settings document"),
        ("var/lib/waagent/Foo.Bar-1.0/config/HandlerStatus", "[1, 2]", "JSON is not a HandlerStatus document"),
    ],
)
def test_json_of_the_wrong_shape_counts_as_unparsed(tmp_path, relative, text, reason):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(text + "\n")
    result = load_sources([tmp_path])
    (account,) = result.accounts
    assert (account.lines, account.records, account.unparsed) == (1, 0, 1)
    assert any(w.startswith(f"{path}: {reason}") for w in result.warnings)


@pytest.mark.parametrize(
    ("path", "collection"),
    [
        ("cases/vm1/var/log/waagent.log", "cases/vm1"),
        ("cases/vm1/var/lib/waagent/Foo.Bar-1.0/status/0.status", "cases/vm1"),
        ("cases/vm1/etc/waagent.conf", "cases/vm1"),
        ("cases/vm1/instance-view.json", None),
        ("/tmp/case/azure/custom-script/handler.log", "/tmp/case"),
        ("/var/log/waagent.log", "/"),
        ("/etc/waagent.conf", "/"),
        ("bundle.zip!var/log/waagent.log", "bundle.zip"),
        ("bundle.zip!az/instance-view.json", "bundle.zip"),
        ("waagent.log", None),
    ],
)
def test_collection_of(path, collection):
    assert collection_of(path) == collection


def test_assign_collections_places_loose_files():
    trees = ["cases/vm1/var/log/waagent.log", "cases/vm2/var/log/waagent.log", "b.zip!var/log/waagent.log"]
    assert assign_collections([*trees, "cases/vm1/instance-view.json", "elsewhere/iv.json"]) == {
        trees[0]: "cases/vm1",
        trees[1]: "cases/vm2",
        trees[2]: "b.zip",
        "cases/vm1/instance-view.json": "cases/vm1",  # beside its VM's tree
        "elsewhere/iv.json": "elsewhere",  # several trees: it cannot be placed, so it stands alone
    }
    # One tree: every loose file belongs to it.
    assert set(assign_collections([trees[0], "downloads/iv.json"]).values()) == {"cases/vm1"}
    # No tree: the loose files are one VM's, named by their common folder.
    assert set(assign_collections(["case/a/waagent.log", "case/b/iv.json"]).values()) == {"case"}
    # One loose file alone is its own collection: its folder may hold files never read.
    assert assign_collections(["downloads/waagent.log"]) == {"downloads/waagent.log": "downloads/waagent.log"}


@pytest.mark.parametrize(
    ("name", "mode"),
    [("sosreport-vm1-2025.tar.xz", "w:xz"), ("scc_vm1_250101.txz", "w:xz"), ("bundle.tar.bz2", "w:bz2")],
)
def test_xz_and_bzip2_bundles_are_read_in_place(tmp_path, name, mode):
    import tarfile

    bundle = tmp_path / name
    with tarfile.open(bundle, mode) as archive:
        archive.add(REPO / "sample_logs/vm-modern/var/log/waagent.log", arcname="sosreport-vm1/var/log/waagent.log")
    result = load_sources([bundle])
    (account,) = result.accounts
    assert account.kind == "waagent" and account.path.endswith("!sosreport-vm1/var/log/waagent.log")
    assert account.records > 0 and account.balanced


def test_a_bang_in_a_directory_name_is_not_an_archive_member(tmp_path):
    """Only a `!` after an archive's name separates a member: `case!1/` and `case!2/` are two VMs."""
    from parsers.collect import archive_of

    for name in ("case!1", "case!2"):
        log = tmp_path / name / "var" / "log" / "waagent.log"
        log.parent.mkdir(parents=True)
        log.write_text("2025-06-11T03:00:01.000001Z ERROR ExtHandler ExtHandler x\n")
    result = load_sources([tmp_path])
    assert sorted(set(result.collections().values())) == sorted(str(tmp_path / n) for n in ("case!1", "case!2"))
    assert archive_of("logs.zip!var/log/waagent.log") == "logs.zip"
    assert archive_of("a!b.tar.gz!var/log/waagent.log") == "a!b.tar.gz"
    assert archive_of("case!1/var/log/waagent.log") is None
