mod dependencies;
