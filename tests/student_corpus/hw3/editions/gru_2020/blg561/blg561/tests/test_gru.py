# the course's unittests live here (test_rnn.py, test_lstm.py, test_gru.py)
