mod dependencies;
mod machine;
