"""Streamlit chat UI (placeholder; built in its own issue)."""

import streamlit as st

st.title("Local document assistant")
st.write("Use `assistant ask QUESTION` from the command line for now.")
