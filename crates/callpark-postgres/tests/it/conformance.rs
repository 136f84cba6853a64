//! The store contract every adapter meets, unchanged, against Postgres.

use crate::support;

callpark_domain::store_conformance_tests!(support::store());
