"""Dashboard: Streamlit pages and components."""
