"""The per-invocation target folders dagster-dbt leaves behind are pruned to the newest few."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.defs.dbt import prune_invocation_folders


def make_folder(root: Path, name: str, mtime: int) -> Path:
    folder = root / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    os.utime(folder, (mtime, mtime))
    return folder


def test_only_the_newest_invocation_folders_of_the_dbt_asset_are_kept(tmp_path: Path) -> None:
    folders = [make_folder(tmp_path, f"kpi_dbt_models-run{i}-abc{i}", 1_000 + i) for i in range(5)]
    other = make_folder(tmp_path, "some_other_op-run0-abc0", 10)
    (tmp_path / "manifest.json").write_text("{}")  # the prepared manifest is never touched

    removed = prune_invocation_folders(tmp_path, keep=2)

    assert sorted(removed) == sorted(folders[:3])
    assert sorted(p for p in tmp_path.iterdir() if p.is_dir()) == sorted([*folders[3:], other])
    assert (tmp_path / "manifest.json").exists()
