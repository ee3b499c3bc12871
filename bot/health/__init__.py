"""`python main.py --health`: the running bot answers on a Unix socket in its data folder."""
