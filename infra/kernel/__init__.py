"""What every service agrees on, in the standard library only: the one place domain code may import from infra."""
