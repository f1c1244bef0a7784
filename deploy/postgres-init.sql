-- Run once by the postgres image on an empty data directory
-- (/docker-entrypoint-initdb.d): one database per service. No service reads another's.
CREATE DATABASE enlace_inventory;
CREATE DATABASE enlace_cooperation;
CREATE DATABASE enlace_gateway;
