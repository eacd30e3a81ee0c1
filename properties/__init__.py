"""The properties of nnlaws: strategies, tolerances, the audit plugin and the theorems."""
