/**
 * The fixed tables behind `mycnf.ts`: the seed system's `[mysqld]` defaults, what MariaDB 10.11 keeps of
 * them, the `small` profile, and the constant settings that do not depend on the instance. Instance-specific
 * values (paths, ports, server id, buffer pool) are filled in by `generateMyCnf`.
 *
 * Keys are already normalized (`_`, never `-`). mariadbd refuses to start on an unknown variable, so every
 * MariaDB key here must be a MariaDB name, or carry `loose_` when a build may lack it.
 */

/** A section of option lines: normalized key to value, written as `key = value`. */
export type Settings = Readonly<Record<string, string>>;

/**
 * The seed's overridable `[mysqld]` defaults for MySQL 8.4, as is (MOCO's pkg/mycnf DefaultMycnf). `tmpdir` and
 * `innodb_tmpdir` are absent: they come from the instance paths.
 */
export const MYSQL_DEFAULTS: Settings = {
  character_set_server: 'utf8mb4',
  collation_server: 'utf8mb4_unicode_ci',
  default_time_zone: '+0:00',
  back_log: '900',
  max_connections: '100000',
  max_allowed_packet: '1G',
  max_heap_table_size: '64M',
  sort_buffer_size: '4M',
  join_buffer_size: '2M',
  thread_cache_size: '100',
  wait_timeout: '604800',
  lock_wait_timeout: '60',
  table_open_cache: '65536',
  table_definition_cache: '65536',
  transaction_isolation: 'READ-COMMITTED',
  tmp_table_size: '64M',
  slow_query_log: 'ON',
  long_query_time: '2',
  log_error_verbosity: '3',
  log_slow_extra: 'ON',
  max_sp_recursion_depth: '20',
  print_identified_with_as_hex: 'ON',
  loose_binlog_transaction_compression: 'ON',
  temptable_use_mmap: 'OFF',
  information_schema_stats_expiry: '0',
  disabled_storage_engines: 'MyISAM',
  default_storage_engine: 'InnoDB',
  innodb_flush_method: 'O_DIRECT',
  innodb_lock_wait_timeout: '60',
  innodb_print_all_deadlocks: '1',
  innodb_online_alter_log_max_size: '1073741824',
  innodb_adaptive_hash_index: 'ON',
  loose_innodb_numa_interleave: 'ON',
  innodb_buffer_pool_in_core_file: 'OFF',
  innodb_log_file_size: '800M',
  innodb_log_files_in_group: '2',
  innodb_buffer_pool_dump_pct: '100',
  innodb_buffer_pool_dump_at_shutdown: '1',
  innodb_buffer_pool_load_at_startup: '0',
  loose_innodb_validate_tablespace_paths: 'OFF',
  innodb_flush_neighbors: '0',
  innodb_random_read_ahead: 'false',
  innodb_read_ahead_threshold: '0',
  innodb_log_write_ahead_size: '512',
  innodb_undo_log_truncate: 'OFF',
};

/**
 * Seed defaults that MariaDB 10.11 does not get, each with the reason. Everything else in
 * {@link MYSQL_DEFAULTS} is a valid MariaDB 10.11 option with the same meaning (checked against
 * `mariadbd --help --verbose` and a real start; `transaction_isolation` is a startup option there too).
 */
export const MARIADB_DROPPED_DEFAULTS: Readonly<Record<string, string>> = {
  log_error_verbosity: 'MySQL only; MariaDB has log_warnings, whose default (2) is kept',
  log_slow_extra: 'MySQL only; the MariaDB counterpart (log_slow_verbosity) logs different fields',
  print_identified_with_as_hex: 'MySQL only',
  loose_binlog_transaction_compression: 'MySQL only (MariaDB log_bin_compress is a different format)',
  temptable_use_mmap: 'MySQL only (no TempTable engine)',
  information_schema_stats_expiry: 'MySQL only (MariaDB reads table statistics live)',
  disabled_storage_engines:
    'MySQL only; enforce_storage_engine is not equivalent (it rejects or substitutes every other engine)',
  innodb_buffer_pool_in_core_file: 'MySQL only',
  innodb_log_files_in_group: 'removed in MariaDB 10.5 (one redo log file)',
  loose_innodb_validate_tablespace_paths: 'MySQL only',
  innodb_log_write_ahead_size:
    'removed in 10.8 and only restored in a later 10.11 patch release, so older 10.11 servers refuse to start',
};

/**
 * The seed defaults that MariaDB 10.11 knows ({@link MYSQL_DEFAULTS} less {@link MARIADB_DROPPED_DEFAULTS}), plus
 * `log_bin_trust_function_creators`: with binary logging on, MariaDB lets only SUPER holders create triggers and
 * stored functions unless it is ON, and on MariaDB only moco-agent holds SUPER (SUPER lets an account define a
 * routine that runs as moco-agent, which writes on a read-only replica; docs/users.md). With ROW binary logging,
 * which the cluster forces, what these run is logged as rows, so the check it relaxes protects nothing here.
 */
export const MARIADB_DEFAULTS: Settings = {
  ...Object.fromEntries(Object.entries(MYSQL_DEFAULTS).filter(([key]) => !(key in MARIADB_DROPPED_DEFAULTS))),
  log_bin_trust_function_creators: 'ON',
};

/** Durable by default (both flavors; MariaDB's own `sync_binlog` default is 0). Overridable. */
export const DURABILITY_DEFAULTS: Settings = {
  sync_binlog: '1',
  innodb_flush_log_at_trx_commit: '1',
};

/**
 * The `small` profile (several instances on one machine: local clusters and tests), over the defaults and
 * overridable. `fsync` because O_DIRECT fails on tmpfs.
 */
export const SMALL_DEFAULTS: Settings = {
  innodb_log_file_size: '48M',
  max_connections: '200',
  table_open_cache: '400',
  table_definition_cache: '400',
  thread_cache_size: '8',
  back_log: '80',
  max_allowed_packet: '64M',
  innodb_flush_method: 'fsync',
  innodb_buffer_pool_dump_at_shutdown: 'OFF',
};

/**
 * MariaDB additions to {@link SMALL_DEFAULTS}: the memory savers (about 53 MB RSS per idle instance). MySQL
 * keeps performance_schema, which the agent reads.
 */
export const MARIADB_SMALL_DEFAULTS: Settings = {
  performance_schema: 'OFF',
  aria_pagecache_buffer_size: '1M',
  key_buffer_size: '64K',
};

/**
 * Forced MySQL 8.4 `[mysqld]` settings that do not depend on the instance. Every instance starts fenced
 * (read-only, replication stopped); the coordinator opens the primary. Relative binlog and relay log names
 * keep a data directory movable. The semi-sync plugins are installed at init, after the first start, hence
 * `loose_`.
 */
export const MYSQL_CONSTANTS: Settings = {
  secure_file_priv: 'NULL',
  skip_name_resolve: 'ON',
  enforce_gtid_consistency: 'ON',
  gtid_mode: 'ON',
  binlog_format: 'ROW',
  log_bin: 'binlog',
  relay_log: 'relay',
  log_replica_updates: 'ON',
  relay_log_recovery: 'OFF',
  read_only: 'ON',
  super_read_only: 'ON',
  skip_replica_start: 'ON',
  loose_replication_optimize_for_static_plugin_config: 'ON',
  loose_replication_sender_observe_commit_only: 'OFF',
  loose_rpl_semi_sync_master_wait_point: 'AFTER_SYNC',
  loose_rpl_semi_sync_master_wait_no_slave: 'ON',
};

/**
 * Forced MariaDB 10.11 `[mysqld]` settings that do not depend on the instance. Semi-sync is built in, so no
 * `loose_`. The wait point must be set: MariaDB's default, AFTER_COMMIT, lets clients see commits that no
 * replica has yet, which a failover then loses. The timeout is the largest value, so the primary never falls
 * back to asynchronous replication. `rpl_semi_sync_master_enabled` is turned on at runtime on the primary only.
 */
export const MARIADB_CONSTANTS: Settings = {
  skip_name_resolve: 'ON',
  log_bin: 'binlog',
  log_bin_index: 'binlog.index',
  relay_log: 'relay',
  relay_log_index: 'relay.index',
  binlog_format: 'ROW',
  gtid_strict_mode: 'ON',
  gtid_domain_id: '0',
  log_slave_updates: 'ON',
  skip_slave_start: 'ON',
  read_only: 'ON',
  relay_log_recovery: 'OFF',
  rpl_semi_sync_master_wait_point: 'AFTER_SYNC',
  rpl_semi_sync_master_timeout: '4294967295',
  rpl_semi_sync_master_wait_no_slave: 'ON',
  rpl_semi_sync_slave_enabled: 'ON',
};

/** The X protocol port of a production MySQL instance (the seed's constant). */
export const MYSQLX_PORT = 33060;

/** `[mysql]`: the command-line client needs an explicit COMMIT, as in the seed. */
export const MYSQL_CLIENT_SECTION: Settings = {
  auto_rehash: 'OFF',
  init_command: '"SET autocommit=0"',
};

/**
 * User keys that are always dropped, by base name (see `baseName` in `mycnf.ts`): the binary log and the
 * error log are the system's, so `log_bin`, `skip_log_bin`, `disable_log_bin`, `loose_log_bin`, `log_error`,
 * ... never reach the file.
 */
export const DROPPED_USER_BASES: ReadonlySet<string> = new Set(['log_bin', 'log_error']);
