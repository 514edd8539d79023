//! The OpenAPI schema of text the domain parses itself (ids, keys,
//! addresses): what `parse` accepts, as far as a schema can say it.
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// A string of `min..=max` bytes matching `pattern`.
pub fn text(description: &str, min: usize, max: usize, pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

/// Implements `ToSchema` for a type whose JSON is text `parse` checks.
macro_rules! text_schema {
    ($name:ty, $description:expr, $min:expr, $max:expr, $pattern:expr) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::schema::text($description, $min, $max, $pattern)
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use text_schema;
