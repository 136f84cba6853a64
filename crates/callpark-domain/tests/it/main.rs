mod dependencies;
mod machine;
mod mocks;
mod properties;
mod service;
mod support;
