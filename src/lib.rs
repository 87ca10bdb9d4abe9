//! escapecert: certified bounds and controlled Monte Carlo for the escape of SGD from
//! sharp minima (THEORY.md, after Ibayashi & Imaizumi, arXiv 2111.04004).
//!
//! Data flows one way: [`spec`] → [`landscape`] → [`certify`] / [`simulate`] →
//! [`stats`] → [`claims`] → [`report`]; the binary is a thin CLI over [`run`].

pub mod certificate;
pub mod certify;
pub mod check;
pub mod checkpoint;
pub mod claims;
pub mod landscape;
pub mod num;
pub mod paper;
pub mod report;
pub mod run;
pub mod simulate;
pub mod spec;
pub mod stats;
