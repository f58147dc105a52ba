"""Fleet analysis: many VMs on Dask into one Parquet dataset and a fleet report (`loglens fleet`).

`units` splits sources into VMs, `task` analyses one VM on a worker, `dataset` is the layout on
disk, `run` drives the cluster, `summary`, `figures` and `report` read a finished dataset.
"""
