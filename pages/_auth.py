"""Who is using this browser session (Streamlit-only helper): local mode's single user for now."""

from core import service


def current_identity():
    """The :class:`core.auth.Identity` of this session."""
    return service.local_identity()


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()
