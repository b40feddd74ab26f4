"""The SQLite schema of ``maxq.db``, as the reference's knex migration declares it.

Tables are created only when absent, so a file made by the reference migration is used as is.
In a file we create, the step primary key is ``(run_id, id)`` (Decision D1) — same columns.
The knex bookkeeping tables are created with the migration's row so that the reference CLI
accepts a maxtrio-created file; a knex-created file keeps its own rows.
"""

from __future__ import annotations

MIGRATION_NAME = "20251031000000_initial_schema.js"

TABLES = """
CREATE TABLE IF NOT EXISTS `run` (
  `id` text,
  `flow_name` text not null,
  `status` text not null,
  `input` text,
  `output` text,
  `error` text,
  `metadata` text,
  `created_at` bigint not null,
  `started_at` bigint,
  `completed_at` bigint,
  `duration_ms` bigint,
  `stdout` text,
  `stderr` text,
  `name` text,
  `description` text,
  `flow_title` text,
  `termination_reason` text,
  primary key (`id`)
);
CREATE INDEX IF NOT EXISTS `idx_run_flow_name` on `run` (`flow_name`);
CREATE INDEX IF NOT EXISTS `idx_run_status` on `run` (`status`);
CREATE INDEX IF NOT EXISTS `idx_run_created_at` on `run` (`created_at`);

CREATE TABLE IF NOT EXISTS `stage` (
  `id` text,
  `run_id` text not null,
  `name` text not null,
  `final` integer not null,
  `status` text not null,
  `created_at` bigint not null,
  `started_at` bigint,
  `completed_at` bigint,
  `termination_reason` text,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE,
  primary key (`id`)
);
CREATE INDEX IF NOT EXISTS `idx_stage_run_id` on `stage` (`run_id`);
CREATE INDEX IF NOT EXISTS `idx_stage_name` on `stage` (`run_id`, `name`);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_stage_run_name` on `stage` (`run_id`, `name`);

CREATE TABLE IF NOT EXISTS `step` (
  `id` text not null,
  `run_id` text not null,
  `stage_id` text not null,
  `name` text not null,
  `status` text not null,
  `depends_on` text not null,
  `retry_count` integer not null default '0',
  `max_retries` integer not null,
  `env` text,
  `fields` text,
  `error` text,
  `created_at` bigint not null,
  `started_at` bigint,
  `completed_at` bigint,
  `duration_ms` bigint,
  `stdout` text,
  `stderr` text,
  `termination_reason` text,
  `queued_at` bigint,
  `claimed_at` bigint,
  `heartbeat_at` bigint,
  `worker_id` text,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE,
  foreign key(`stage_id`) references `stage`(`id`) on delete CASCADE,
  primary key (`run_id`, `id`)
);
CREATE INDEX IF NOT EXISTS `idx_step_run_id` on `step` (`run_id`);
CREATE INDEX IF NOT EXISTS `idx_step_stage_id` on `step` (`stage_id`);
CREATE INDEX IF NOT EXISTS `idx_step_status` on `step` (`status`);
CREATE INDEX IF NOT EXISTS `idx_step_name` on `step` (`run_id`, `name`);
CREATE INDEX IF NOT EXISTS `idx_step_scheduler_queue` on `step` (`status`, `queued_at`);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_step_id` on `step` (`run_id`, `id`);

CREATE TABLE IF NOT EXISTS `run_log` (
  `id` text,
  `run_id` text not null,
  `entity_type` text check (`entity_type` in ('run', 'stage', 'step')) not null,
  `entity_id` text,
  `level` text check (`level` in ('debug', 'info', 'warn', 'error')) not null,
  `message` text not null,
  `metadata` text,
  `created_at` bigint not null,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE,
  primary key (`id`)
);
CREATE INDEX IF NOT EXISTS `idx_run_log_run_id_created_at` on `run_log` (`run_id`, `created_at`);
CREATE INDEX IF NOT EXISTS `idx_run_log_entity` on `run_log` (`run_id`, `entity_type`);
"""

KNEX_TABLES = """
CREATE TABLE `knex_migrations` (
  `id` integer not null primary key autoincrement,
  `name` varchar(255),
  `batch` integer,
  `migration_time` datetime
);
CREATE TABLE `knex_migrations_lock` (
  `index` integer not null primary key autoincrement,
  `is_locked` integer
);
INSERT INTO `knex_migrations_lock` (`is_locked`) VALUES (0);
"""

KNEX_MIGRATION_ROW = (
    "INSERT INTO `knex_migrations` (`name`, `batch`, `migration_time`) VALUES (?, 1, ?)"
)
