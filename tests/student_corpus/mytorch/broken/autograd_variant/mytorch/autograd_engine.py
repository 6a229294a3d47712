class Autograd:
    def __init__(self, debug=False):
        self.debug = debug
        self.operation_list = []
