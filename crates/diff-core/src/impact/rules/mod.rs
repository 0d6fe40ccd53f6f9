//! The rules, one module per area. Each `check` looks at one resource; `config` looks across
//! resources (which workloads use a changed ConfigMap) and runs last, once rollouts are known.

mod availability;
mod config;
mod crd;
mod exposure;
mod immutable;
mod pod_security;
mod rbac;
mod security;
mod storage;
mod workload;

use crate::manifest::Manifest;

use super::findings::Findings;
use super::view::View;

pub(crate) fn run(views: &[View<'_>], manifest: Option<&Manifest>, out: &mut Findings) {
    for v in views {
        availability::check(v, out);
        workload::check(v, out);
        immutable::check(v, out);
        security::check(v, out);
        rbac::check(v, out);
        pod_security::check(v, out);
        exposure::check(v, out);
        storage::check(v, out);
        crd::check(v, out);
    }
    config::check(views, manifest, out);
}
