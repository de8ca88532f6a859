-- vidmesh database per service: one database and one LOGIN role per service, each role
-- locked out of every other service's data. Run as the Postgres superuser with psql; safe
-- to run at every start (it creates what is missing and re-asserts passwords and grants).
--
--   native:  python -m mesh.dbbootstrap   (runs this file with psql, passwords in the env)
--   compose: mount as /docker-entrypoint-initdb.d/10-vidmesh.sql (env_file: settings.env)
--
-- role            database      schema (its search_path)   used by
-- users           users         users                      services/users
-- notification    notification  notification               services/notification
-- email           email         email                      services/email
-- video_command   video         video_write                services/video_command
-- video_query     video         video_read                 services/video_query
-- recommendations recommendations recommendations         services/recommendations (Go)
--
-- Databases and schemas belong to the superuser and the schemas to the service roles: a
-- service role can create tables in its own schema and nothing else (no CREATE DATABASE,
-- no CREATE SCHEMA, no way to re-grant CONNECT to someone else).
--
-- Passwords: VIDMESH_DB_PASSWORD_<ROLE> from the environment, else "<role>-dev-password"
-- (mesh/dbbootstrap.py applies the same rule when it builds DSNs). psql 15+ for \getenv.

\set ON_ERROR_STOP on
\set QUIET on

\set users_password 'users-dev-password'
\getenv users_password VIDMESH_DB_PASSWORD_USERS
\set notification_password 'notification-dev-password'
\getenv notification_password VIDMESH_DB_PASSWORD_NOTIFICATION
\set email_password 'email-dev-password'
\getenv email_password VIDMESH_DB_PASSWORD_EMAIL
\set video_command_password 'video_command-dev-password'
\getenv video_command_password VIDMESH_DB_PASSWORD_VIDEO_COMMAND
\set video_query_password 'video_query-dev-password'
\getenv video_query_password VIDMESH_DB_PASSWORD_VIDEO_QUERY
\set recommendations_password 'recommendations-dev-password'
\getenv recommendations_password VIDMESH_DB_PASSWORD_RECOMMENDATIONS

-- CREATE ROLE and CREATE DATABASE have no IF NOT EXISTS and race when two runs overlap:
-- serialise runs with an advisory lock (released when psql disconnects or \connects).
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset

-- Roles ------------------------------------------------------------------------------
SELECT format('CREATE ROLE %I LOGIN', role)
  FROM unnest(ARRAY['users', 'notification', 'email', 'video_command', 'video_query', 'recommendations']) AS role
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) \gexec

SET password_encryption = 'scram-sha-256';
-- Re-asserted on every run, so a changed password or attribute converges.
ALTER ROLE users LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'users_password';
ALTER ROLE notification LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'notification_password';
ALTER ROLE email LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'email_password';
ALTER ROLE video_command LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'video_command_password';
ALTER ROLE video_query LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'video_query_password';
ALTER ROLE recommendations LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'recommendations_password';

-- Unqualified names (migrations, queries) land in the role's own schema.
ALTER ROLE users SET search_path = users;
ALTER ROLE notification SET search_path = notification;
ALTER ROLE email SET search_path = email;
ALTER ROLE video_command SET search_path = video_write;
ALTER ROLE video_query SET search_path = video_read;
ALTER ROLE recommendations SET search_path = recommendations;

-- Databases: only their own role(s) may connect ---------------------------------------
SELECT format('CREATE DATABASE %I', db)
  FROM unnest(ARRAY['users', 'notification', 'email', 'video', 'recommendations']) AS db
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = db) \gexec

-- A new database grants CONNECT and TEMPORARY to PUBLIC, i.e. to every role.
REVOKE ALL ON DATABASE users, notification, email, video, recommendations FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE users TO users;
GRANT CONNECT, TEMPORARY ON DATABASE notification TO notification;
GRANT CONNECT, TEMPORARY ON DATABASE email TO email;
GRANT CONNECT, TEMPORARY ON DATABASE video TO video_command, video_query;
GRANT CONNECT, TEMPORARY ON DATABASE recommendations TO recommendations;

-- Schemas: each role owns one; public is closed -----------------------------------------
\connect users
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS users AUTHORIZATION users;
ALTER SCHEMA users OWNER TO users;

\connect notification
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS notification AUTHORIZATION notification;
ALTER SCHEMA notification OWNER TO notification;

\connect email
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS email AUTHORIZATION email;
ALTER SCHEMA email OWNER TO email;

\connect recommendations
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS recommendations AUTHORIZATION recommendations;
ALTER SCHEMA recommendations OWNER TO recommendations;

-- CQRS in one database: the command side writes video_write, the query side's projector
-- builds video_read from events. Neither may even look into the other's schema.
\connect video
SELECT pg_advisory_lock(hashtext('vidmesh.dbbootstrap')) AS locked \gset
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS video_write AUTHORIZATION video_command;
ALTER SCHEMA video_write OWNER TO video_command;
CREATE SCHEMA IF NOT EXISTS video_read AUTHORIZATION video_query;
ALTER SCHEMA video_read OWNER TO video_query;
REVOKE ALL ON SCHEMA video_write FROM PUBLIC, video_query;
REVOKE ALL ON SCHEMA video_read FROM PUBLIC, video_command;
