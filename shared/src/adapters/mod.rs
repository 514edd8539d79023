//! Implementations of the domain's ports: `aws` (DynamoDB through the AWS
//! SDK) and `embedded` (in-process, for the local gateway and fast tests).
pub mod aws;
pub mod embedded;
pub mod unwired;
