"""Templates, jobs and share judging: the job side of `jobs.contracts`."""

from athena_pool.jobs.job import Job
from athena_pool.jobs.judge import ConfirmPolicy, PoolShareJudge
from athena_pool.jobs.manager import JobConfig, JobManager, NetworkState, new_instance_id
from athena_pool.jobs.template import Template, TemplateError

__all__ = [
    "ConfirmPolicy",
    "Job",
    "JobConfig",
    "JobManager",
    "NetworkState",
    "PoolShareJudge",
    "Template",
    "TemplateError",
    "new_instance_id",
]
