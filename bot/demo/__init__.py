"""The Northwind Supply demo call centre; its rasa-sdk actions live in ``bot.demo.actions``."""
