"""Turning read examples into model features."""
