from abc import abstractmethod


class LayerWithWeights(object):
    '''
        Abstract class for layer with weights(CNN, Affine etc...)
    '''

    def __init__(self, *args, **kwargs):
        pass

    @abstractmethod
    def forward(self, x):
        pass

    @abstractmethod
    def backward(self, x):
        pass

    def __repr__(self):
        return 'Abstract layer class'
