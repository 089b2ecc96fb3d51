-- One PostGIS server, one database per service (no service reads another's tables).
-- The services' first migration creates the postgis extension in their own database.
CREATE DATABASE territory_geo;
CREATE DATABASE territory_assignment;
CREATE DATABASE territory_metrics;
