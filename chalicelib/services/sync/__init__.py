"""The sync's decision logic (`decide`), its words (`messages`) and the live Xero directory."""
