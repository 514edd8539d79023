//! Message templates: the tenant's own, checked when saved, over the bundled
//! ones.
use std::sync::Arc;

use super::render::{bundled, check_name, check_template};
use super::template_store::TemplateStore;
use crate::domain::{StoreError, TenantId};

/// Where a template's source comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Tenant,
    Bundled,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Template {
    pub name: String,
    pub source: String,
    pub origin: Origin,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A name or source refused when saving.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Templates {
    store: Arc<dyn TemplateStore>,
    /// How many templates of its own a tenant may have
    /// (`HERALD_MAX_TEMPLATES_PER_TENANT`).
    max_per_tenant: usize,
}

impl Templates {
    pub fn new(store: Arc<dyn TemplateStore>, max_per_tenant: usize) -> Self {
        Self { store, max_per_tenant }
    }

    /// Saves the tenant's template `name`: it must compile and render a
    /// sample digest.
    pub async fn put(&self, tenant: &TenantId, name: &str, source: String) -> Result<Template, TemplateError> {
        check_template(name, &source).map_err(TemplateError::Invalid)?;
        let replacing = self.store.get_template(tenant, name).await?.is_some();
        if !replacing && self.store.count_templates(tenant, self.max_per_tenant).await? >= self.max_per_tenant {
            return Err(TemplateError::QuotaExceeded(format!("the tenant has {} templates, the most it may have", self.max_per_tenant)));
        }
        self.store.put_template(tenant, name, &source).await?;
        Ok(Template { name: name.to_owned(), source, origin: Origin::Tenant })
    }

    /// The tenant's template `name`, else the bundled one.
    pub async fn get(&self, tenant: &TenantId, name: &str) -> Result<Template, TemplateError> {
        check_name(name).map_err(TemplateError::NotFound)?;
        if let Some(source) = self.store.get_template(tenant, name).await? {
            return Ok(Template { name: name.to_owned(), source, origin: Origin::Tenant });
        }
        match bundled(name) {
            Some(source) => Ok(Template { name: name.to_owned(), source: source.to_owned(), origin: Origin::Bundled }),
            None => Err(TemplateError::NotFound(format!("no template '{name}'"))),
        }
    }
}
