"""fuelrl.models"""
