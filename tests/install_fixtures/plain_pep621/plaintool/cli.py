"""The plaintool command."""

import sys


def parse_total(text):
    return int(text)


def main():
    """Print the parsed total; a bad number is a bug we want to hear about."""
    print(parse_total(sys.argv[1] if len(sys.argv) > 1 else "12"))


if __name__ == "__main__":
    main()
