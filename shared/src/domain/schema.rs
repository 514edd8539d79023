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

/// A user named by its id: text, or the integer Tryton sends.
pub fn user_ref() -> Schema {
    use utoipa::openapi::schema::OneOfBuilder;
    OneOfBuilder::new()
        .item(<super::UserId as utoipa::PartialSchema>::schema())
        .item(ObjectBuilder::new().schema_type(Type::Integer))
        .build()
        .into()
}

/// A list of [`user_ref`]s.
pub fn user_refs() -> Schema {
    utoipa::openapi::schema::ArrayBuilder::new().items(RefOr::T(user_ref())).build().into()
}

/// A [`user_ref`], or null for the caller.
pub fn optional_user_ref() -> Schema {
    use utoipa::openapi::schema::OneOfBuilder;
    OneOfBuilder::new()
        .item(<super::UserId as utoipa::PartialSchema>::schema())
        .item(ObjectBuilder::new().schema_type(Type::Integer))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}
