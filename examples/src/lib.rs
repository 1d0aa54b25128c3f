//! Runnable programs that show how to use whirl. They arrive with the runtime.
