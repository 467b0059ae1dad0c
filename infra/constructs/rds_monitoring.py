"""Alarms and graphs of the RDS instance: the report's two, and AWS's recommended FreeStorageSpace and
FreeableMemory (CloudWatch user guide, "Recommended alarms"; thresholds in config, decisions.md).

RDS reports every metric every minute, so missing data means a mistyped instance id or a stopped
instance: every alarm keeps it visible (MISSING), and the CPU alarm sends INSUFFICIENT_DATA as the one
"monitoring blind" notice for the instance.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import RdsConfig, Thresholds
from infra.constructs.dashboard import graph
from lambdas.shared.alarm_metadata import Category

MINUTE = Duration.minutes(1)
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
GIB = 1024**3
MIB = 1024**2


def free_storage_threshold_bytes(rds: RdsConfig, thresholds: Thresholds) -> float:
    """A share of the allocated storage, or the absolute floor when the size is not configured."""
    if rds.allocated_storage_gib is None:
        return thresholds.rds_free_storage_floor_gib * GIB
    return rds.allocated_storage_gib * GIB * thresholds.rds_free_storage_percent / 100


def freeable_memory_threshold_bytes(rds: RdsConfig, thresholds: Thresholds) -> float:
    if rds.memory_gib is None:
        return thresholds.rds_freeable_memory_floor_mib * MIB
    return rds.memory_gib * GIB * thresholds.rds_freeable_memory_percent / 100


class RdsMonitoring(Construct):
    """`connections`, `cpu`, `free_storage`, `freeable_memory`; `widgets` for the Database row."""

    def __init__(
        self, scope: Construct, construct_id: str, *, rds: RdsConfig, thresholds: Thresholds, factory: AlarmFactory
    ) -> None:
        super().__init__(scope, construct_id)
        self.rds = rds
        minutes = thresholds.evaluation_minutes
        db = rds.instance_identifier
        missing = cw.TreatMissingData.MISSING
        limit = rds.max_connections * thresholds.rds_connections_percent / 100
        self.connections = factory.sustained(
            self,
            "RdsConnectionsHigh",
            name="rds-connections-high",
            summary=(
                f"RDS {db} connections above {limit:g} ({thresholds.rds_connections_percent:g}% of max_connections"
                f" {rds.max_connections}) for {minutes} min."
            ),
            metric=self.metric("DatabaseConnections", "Maximum"),
            threshold=limit,
            minutes=minutes,
            missing=missing,
            runbook="rds-connections-high",
        )
        self.cpu = factory.sustained(
            self,
            "RdsCpuHigh",
            name="rds-cpu-high",
            summary=f"RDS {db} CPU above {thresholds.rds_cpu_percent:g}% for {minutes} min.",
            metric=self.metric("CPUUtilization"),
            threshold=thresholds.rds_cpu_percent,
            minutes=minutes,
            missing=missing,
            runbook="rds-cpu-high",
            notify_insufficient_data=True,
        )
        storage = free_storage_threshold_bytes(rds, thresholds)
        self.free_storage = factory.sustained(
            self,
            "RdsFreeStorageLow",
            name="rds-free-storage-low",
            summary=f"RDS {db} free storage below {storage / GIB:.1f} GiB for {minutes} min.",
            metric=self.metric("FreeStorageSpace", "Minimum"),
            threshold=storage,
            comparison=LT,
            minutes=minutes,
            missing=missing,
            category=Category.ERRORS,
            runbook="rds-free-storage-low",
        )
        memory = freeable_memory_threshold_bytes(rds, thresholds)
        memory_minutes = thresholds.rds_memory_minutes
        self.freeable_memory = factory.sustained(
            self,
            "RdsFreeableMemoryLow",
            name="rds-freeable-memory-low",
            summary=f"RDS {db} freeable memory below {memory / MIB:.0f} MiB for {memory_minutes} min.",
            metric=self.metric("FreeableMemory"),
            threshold=memory,
            comparison=LT,
            minutes=memory_minutes,
            missing=missing,
            runbook="rds-freeable-memory-low",
        )
        self.widgets: list[cw.IWidget] = [
            graph(
                "RDS connections",
                [self.metric("DatabaseConnections", "Maximum").with_(label="connections (max)")],
                alarms=[self.connections],
            ),
            graph("RDS CPU utilisation (%)", [self.metric("CPUUtilization")], alarms=[self.cpu]),
            graph(
                "RDS read / write IOPS",
                [self.metric("ReadIOPS").with_(label="read"), self.metric("WriteIOPS").with_(label="write")],
            ),
            graph(
                "RDS free storage (bytes)",
                [self.metric("FreeStorageSpace", "Minimum").with_(label="free storage")],
                alarms=[self.free_storage],
            ),
            graph(
                "RDS freeable memory (bytes)",
                [self.metric("FreeableMemory").with_(label="freeable memory")],
                alarms=[self.freeable_memory],
            ),
        ]

    def metric(self, metric_name: str, statistic: str = "Average") -> cw.Metric:
        return cw.Metric(
            namespace="AWS/RDS",
            metric_name=metric_name,
            dimensions_map={"DBInstanceIdentifier": self.rds.instance_identifier},
            statistic=statistic,
            period=MINUTE,
        )
